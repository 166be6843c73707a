"""A seeded, deterministic demo catalog of realistic Chinese products, as events.

Nothing here comes from the shared research data: categories, brands, product words,
attributes and title patterns are written for the demo, and a seeded RNG combines
them, so ``demo_events(seed=7)`` is the same list on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

# (top level, second level, product words, brands, attribute options, price range)
_CATALOG: list[tuple[str, str, list[str], list[str], dict[str, list[str]], tuple[int, int]]] = [
    ("手机数码", "手机", ["手机", "智能手机", "5G手机", "拍照手机"],
     ["华为", "小米", "苹果", "OPPO", "vivo", "荣耀", "一加", "realme"],
     {"颜色": ["黑色", "白色", "蓝色", "紫色", "银色"], "存储容量": ["128GB", "256GB", "512GB", "1TB"]},
     (699, 9999)),
    ("手机数码", "手机配件", ["手机壳", "钢化膜", "充电器", "数据线", "充电宝", "手机支架"],
     ["倍思", "绿联", "品胜", "安克", "公牛", "小米"],
     {"颜色": ["黑色", "白色", "透明", "粉色"], "适用机型": ["iPhone15", "iPhone15ProMax", "华为Mate60", "小米14"]},
     (9, 199)),
    ("手机数码", "耳机音箱", ["蓝牙耳机", "降噪耳机", "头戴式耳机", "蓝牙音箱", "运动耳机"],
     ["索尼", "漫步者", "苹果", "华为", "JBL", "Bose"],
     {"颜色": ["黑色", "白色", "蓝色"], "连接方式": ["蓝牙5.3", "有线", "双模"]}, (59, 2999)),
    ("电脑办公", "笔记本电脑", ["笔记本电脑", "轻薄本", "游戏本", "商务笔记本"],
     ["联想", "华为", "戴尔", "惠普", "华硕", "苹果", "小米"],
     {"内存容量": ["16GB", "32GB"], "硬盘容量": ["512GB", "1TB"], "屏幕尺寸": ["14英寸", "15.6英寸", "16英寸"]},
     (2999, 15999)),
    ("电脑办公", "键鼠外设", ["机械键盘", "无线鼠标", "键鼠套装", "鼠标垫", "显示器支架"],
     ["罗技", "雷蛇", "达尔优", "雷柏", "联想"],
     {"颜色": ["黑色", "白色", "粉色"], "连接方式": ["有线", "无线", "蓝牙"]}, (29, 999)),
    ("女装", "连衣裙", ["连衣裙", "碎花裙", "长裙", "吊带裙", "针织裙"],
     ["ONLY", "VERO MODA", "太平鸟", "伊芙丽", "优衣库", "ZARA"],
     {"颜色": ["黑色", "白色", "红色", "蓝色", "杏色"], "尺码": ["S", "M", "L", "XL"],
      "风格": ["法式", "韩版", "简约", "复古"]}, (89, 899)),
    ("女装", "上衣", ["T恤", "衬衫", "卫衣", "毛衣", "针织开衫"],
     ["优衣库", "ZARA", "太平鸟", "UR", "森马"],
     {"颜色": ["黑色", "白色", "灰色", "粉色"], "尺码": ["S", "M", "L", "XL"], "袖长": ["短袖", "长袖"]},
     (39, 499)),
    ("男装", "外套", ["羽绒服", "夹克", "冲锋衣", "风衣", "棉服"],
     ["波司登", "海澜之家", "李宁", "安踏", "七匹狼", "优衣库"],
     {"颜色": ["黑色", "藏青", "军绿", "灰色"], "尺码": ["M", "L", "XL", "XXL"], "厚度": ["常规", "加厚"]},
     (199, 1999)),
    ("鞋靴", "运动鞋", ["跑步鞋", "篮球鞋", "板鞋", "休闲鞋", "老爹鞋"],
     ["耐克", "阿迪达斯", "李宁", "安踏", "特步", "回力", "新百伦"],
     {"颜色": ["黑色", "白色", "灰色", "蓝色"], "尺码": ["39", "40", "41", "42", "43"]}, (99, 1299)),
    ("美妆护肤", "面部护肤", ["面霜", "精华液", "爽肤水", "乳液", "洗面奶", "面膜"],
     ["兰蔻", "雅诗兰黛", "欧莱雅", "百雀羚", "自然堂", "薇诺娜", "珀莱雅", "玉兰油"],
     {"净含量": ["30ml", "50ml", "100ml", "120ml"], "功效": ["补水", "保湿", "美白", "抗皱", "修护"]},
     (49, 1599)),
    ("美妆护肤", "彩妆", ["口红", "粉底液", "眼影", "睫毛膏", "气垫"],
     ["迪奥", "圣罗兰", "花西子", "完美日记", "美宝莲", "MAC"],
     {"色号": ["正红", "豆沙", "枫叶", "自然色", "象牙白"]}, (39, 599)),
    ("食品饮料", "休闲零食", ["坚果", "每日坚果", "牛肉干", "薯片", "饼干", "辣条"],
     ["三只松鼠", "良品铺子", "百草味", "洽洽", "卫龙", "旺旺"],
     {"净含量": ["500g", "750g", "1kg", "1.5kg"], "口味": ["原味", "香辣", "五香", "麻辣"]}, (9, 199)),
    ("食品饮料", "茶饮冲调", ["绿茶", "红茶", "普洱茶", "乌龙茶", "咖啡豆", "速溶咖啡"],
     ["竹叶青", "张一元", "雀巢", "三顿半", "立顿", "大益"],
     {"净含量": ["100g", "250g", "500g"], "产地": ["云南", "福建", "浙江", "四川"]}, (19, 699)),
    ("家用电器", "厨房电器", ["电饭煲", "空气炸锅", "电水壶", "破壁机", "微波炉", "豆浆机"],
     ["美的", "九阳", "苏泊尔", "小熊", "格兰仕", "飞利浦"],
     {"容量": ["1.5L", "3L", "4L", "5L"], "颜色": ["白色", "黑色", "绿色"]}, (79, 1299)),
    ("家用电器", "生活电器", ["扫地机器人", "吸尘器", "电风扇", "加湿器", "电暖器", "空气净化器"],
     ["科沃斯", "石头", "戴森", "美的", "小米", "艾美特"],
     {"颜色": ["白色", "黑色", "灰色"]}, (99, 4999)),
    ("母婴", "奶粉尿裤", ["婴儿奶粉", "纸尿裤", "拉拉裤", "湿巾"],
     ["飞鹤", "爱他美", "帮宝适", "花王", "好奇", "君乐宝"],
     {"段数": ["1段", "2段", "3段"], "尺码": ["S", "M", "L", "XL"]}, (39, 499)),
    ("运动户外", "户外装备", ["帐篷", "登山包", "睡袋", "露营椅", "登山杖"],
     ["骆驼", "探路者", "牧高笛", "北面", "迪卡侬"],
     {"颜色": ["军绿", "黑色", "卡其"], "适用人数": ["2人", "3-4人", "5-8人"]}, (49, 2499)),
    ("家居日用", "床上用品", ["四件套", "蚕丝被", "乳胶枕", "羽绒被", "床垫"],
     ["罗莱", "富安娜", "水星家纺", "梦洁", "无印良品"],
     {"尺寸": ["1.5m", "1.8m", "2.0m"], "材质": ["纯棉", "蚕丝", "天丝", "乳胶"]}, (99, 2999)),
]
_MODIFIERS = ["新款", "正品", "官方旗舰店", "2024新款", "热卖", "爆款", "包邮", "限时特惠", "高颜值", "学生",
              "男女通用", "大容量", "轻薄", "加厚", "夏季", "冬季", "百搭", "送礼", "家用", "便携"]
_PHONE_MODELS = {"华为": ["Mate60 Pro", "P60", "nova12", "Pura70"], "小米": ["14 Ultra", "13", "Redmi K70"],
                 "苹果": ["iPhone15 Pro Max", "iPhone15", "iPhone14"], "OPPO": ["Find X7", "Reno11"],
                 "vivo": ["X100 Pro", "S18"], "荣耀": ["Magic6", "100 Pro"], "一加": ["12", "Ace3"],
                 "realme": ["GT5", "12 Pro"]}
_SHOPS = [("shop-001", "数码优选旗舰店"), ("shop-002", "潮流服饰专营店"), ("shop-003", "美妆护肤官方店"),
          ("shop-004", "吃货零食铺"), ("shop-005", "家电生活馆"), ("shop-006", "运动户外专营"),
          ("shop-007", "母婴之家"), ("shop-008", "品质家居馆"), ("shop-009", "全品类百货店"),
          ("shop-010", "社区团购自营")]
_SHOP_FOR_TOP = {"手机数码": [0, 8], "电脑办公": [0, 8], "女装": [1, 8, 9], "男装": [1, 8], "鞋靴": [1, 5, 8],
                 "美妆护肤": [2, 8, 9], "食品饮料": [3, 9, 8], "家用电器": [4, 8], "母婴": [6, 9],
                 "运动户外": [5, 8], "家居日用": [7, 8, 9]}
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _title(rng: random.Random, brand: str, word: str, attrs: dict[str, str], sub: str) -> str:
    parts = [brand]
    if sub == "手机" and brand in _PHONE_MODELS:
        parts.append(rng.choice(_PHONE_MODELS[brand]))
    parts += rng.sample(_MODIFIERS, k=rng.randint(1, 3))
    parts.append(word)
    parts += [v for v in attrs.values()][: rng.randint(1, 2)]
    return " ".join(parts) if rng.random() < 0.3 else "".join(parts)


def _shop_score(shop_id: str) -> float:
    """A shop's quality score (4.2-5.0, fixed per shop, drawn apart from the products' draws)."""
    return round(4.2 + 0.8 * random.Random(f"score:{shop_id}").random(), 1)


def demo_products(n: int = 5000, *, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` products as dicts with ``product_id``, ``shop_id`` and the ``Product`` fields."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        top, sub, words, brands, attr_opts, (lo, hi) = rng.choice(_CATALOG)
        brand = rng.choice(brands)
        word = rng.choice(words)
        attrs = {k: rng.choice(v) for k, v in attr_opts.items()}
        shop_id, shop_name = _SHOPS[rng.choice(_SHOP_FOR_TOP[top])]
        price = round(rng.uniform(lo, hi) * (0.5 + rng.random()), 0) - rng.choice([0, 0.1, 0.01])
        created = EPOCH + timedelta(days=rng.randint(0, 700), seconds=rng.randint(0, 86399))
        sales = int(rng.paretovariate(1.2) * 10) - 10
        title = _title(rng, brand, word, attrs, sub)
        out.append({
            "product_id": f"demo-{i + 1:05d}",
            "shop_id": shop_id,
            "product": {
                "title": title[:300],
                "description": f"{brand}{word}，{'，'.join(f'{k}{v}' for k, v in attrs.items())}。"
                               f"{shop_name}正品保障。",
                "brand": brand,
                "category": [top, sub, word],
                "attributes": attrs,
                "price": max(1.0, round(price, 2)),
                "stock": 0 if rng.random() < 0.08 else rng.randint(1, 5000),
                "sales": max(0, sales),
                "rating": round(rng.uniform(3.5, 5.0), 1),
                "status": "off_shelf" if rng.random() < 0.03 else "on_shelf",
                "image": f"https://img.example.com/demo/{i + 1:05d}.jpg",
                "shop_name": shop_name,
                "shop_score": _shop_score(shop_id),
                "created_at": created.isoformat(),
                "updated_at": created.isoformat(),
            },
        })
    return out


def demo_events(n: int = 5000, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Upsert events for :func:`demo_products`, version 1 each (JSON-ready dicts)."""
    now = datetime.now(UTC).isoformat()
    for p in demo_products(n, seed=seed):
        yield {"event_id": f"demo-{seed}-{p['product_id']}-v1", "type": "upsert", "product_id": p["product_id"],
               "shop_id": p["shop_id"], "version": 1, "occurred_at": now, "product": p["product"]}
