"""Test harness for the indexer against real Kafka and Elasticsearch.

* :class:`EventGen`: a seeded stream of realistic Chinese product events (upserts, patches,
  deletes) with per-product, strictly growing versions.
* :func:`produce`: write events (dicts or raw bytes) to a topic, keyed by product id, and
  return where each landed.
* :class:`IndexerProcess`: ``python -m indexer.main`` as a real subprocess (SIGKILL, SIGTERM).
* :func:`indexer_thread`: an :class:`~indexer.consumer.Indexer` in a thread, for simple cases.
* :func:`wait_caught_up`: committed offsets == end offsets, with a bounded tenacity retry.
* :func:`expected_state`: the ORACLE. It computes the final catalog from the event log on
  its own, without :mod:`indexer.merge`: each product's events sorted by version, applied in
  turn (upsert replaces, patch sets fields, delete removes).
* :func:`diff_index`: the index compared with the oracle, document by document.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import TopicPartition
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from indexer.settings import IndexerSettings

ROOT = Path(__file__).resolve().parents[3]

# ----------------------------------------------------------------------------- the generator

BRANDS = ["华为", "小米", "苹果", "OPPO", "vivo", "联想", "美的", "格力", "海尔", "李宁", "安踏", "耐克",
          "阿迪达斯", "优衣库", "兰蔻", "雅诗兰黛", "欧莱雅", "自然堂", "百雀羚", "三只松鼠", "良品铺子",
          "蒙牛", "伊利", "九阳", "苏泊尔", "飞利浦", "戴森", "罗技", "得力", "晨光"]
CATEGORIES = [["手机数码", "手机"], ["手机数码", "耳机"], ["电脑办公", "笔记本"], ["电脑办公", "鼠标"],
              ["家用电器", "空调"], ["家用电器", "电饭煲"], ["运动户外", "跑步鞋"], ["服饰内衣", "T恤"],
              ["美妆护肤", "面霜"], ["美妆护肤", "口红"], ["食品饮料", "坚果"], ["食品饮料", "牛奶"],
              ["文具", "中性笔"], ["家居日用", "保温杯"]]
NOUNS = {"手机": ["智能手机", "5G手机", "全网通手机"], "耳机": ["蓝牙耳机", "降噪耳机"], "笔记本": ["轻薄笔记本",
         "游戏本"], "鼠标": ["无线鼠标", "静音鼠标"], "空调": ["变频空调", "挂机空调"], "电饭煲": ["电饭煲",
         "智能电饭锅"], "跑步鞋": ["跑步鞋", "缓震运动鞋"], "T恤": ["纯棉T恤", "短袖T恤"], "面霜": ["保湿面霜",
         "修护霜"], "口红": ["哑光口红", "丝绒唇膏"], "坚果": ["每日坚果", "碧根果"], "牛奶": ["纯牛奶", "酸奶"],
         "中性笔": ["中性笔", "签字笔"], "保温杯": ["保温杯", "不锈钢水杯"]}
ADJECTIVES = ["新款", "正品", "官方旗舰", "2024秋季", "大容量", "超薄", "轻便", "加厚", "限量版", "家用",
              "便携", "男女同款", "学生", "商务", "高端", "旗舰店"]
COLORS = ["黑色", "白色", "红色", "蓝色", "玫瑰金", "星空灰", "雾霾蓝"]
MATERIALS = ["纯棉", "不锈钢", "塑料", "铝合金", "真皮", "网面"]
SHOPS = [("s001", "华强北数码专营店"), ("s002", "天猫超市"), ("s003", "京东自营"), ("s004", "拼多多百亿补贴"),
         ("s005", "品牌官方旗舰店"), ("s006", "义乌小商品店")]
STATUSES = ["on_shelf"] * 8 + ["off_shelf", "banned"]

#: Fields of a product the generator sets (all of them, always), and the oracle compares.
PRODUCT_KEYS = ("title", "description", "brand", "category", "attributes", "price", "stock", "sales",
                "rating", "status", "image", "shop_name", "created_at", "updated_at")
PATCHABLE = ("price", "stock", "sales", "status", "rating", "title", "attributes", "description")


@dataclass
class _ProductSrc:
    product_id: str
    shop_id: str
    shop_name: str
    version: int = 0


@dataclass
class EventGen:
    """Seeded product events: ``EventGen(seed=1, products=500).events(5000)``.

    Versions grow strictly per product (by 1–3 each event), as they do at the source.
    ``desc_chars`` sets the description length (the bulk of an event's bytes).
    """

    seed: int = 0
    products: int = 500
    prefix: str = "p"
    desc_chars: int = 120
    p_upsert: float = 0.45
    p_patch: float = 0.45  # the rest are deletes
    rng: random.Random = field(init=False)
    _src: list[_ProductSrc] = field(init=False)
    _n: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._src = []
        for i in range(self.products):
            shop_id, shop_name = self.rng.choice(SHOPS)
            self._src.append(_ProductSrc(f"{self.prefix}{i:06d}", shop_id, shop_name))

    def product(self, src: _ProductSrc) -> dict[str, Any]:
        r = self.rng
        cat = r.choice(CATEGORIES)
        brand = r.choice(BRANDS)
        noun = r.choice(NOUNS[cat[1]])
        title = f"{brand} {r.choice(ADJECTIVES)}{noun} {r.choice(ADJECTIVES)} {r.choice(COLORS)}"
        desc_parts = []
        while sum(map(len, desc_parts)) < self.desc_chars:
            desc_parts.append(f"{r.choice(ADJECTIVES)}{noun}，{r.choice(MATERIALS)}材质，{r.choice(COLORS)}可选。")
        return {
            "title": title[:300],
            "description": "".join(desc_parts)[: self.desc_chars],
            "brand": brand,
            "category": list(cat),
            "attributes": {"颜色": r.choice(COLORS), "材质": r.choice(MATERIALS), "产地": r.choice(["中国", "广东",
                                                                                                "浙江"])},
            "price": round(r.uniform(1, 20000), 2),
            "stock": r.randint(0, 5000),
            "sales": r.randint(0, 100000),
            "rating": round(r.uniform(3, 5), 1),
            "status": r.choice(STATUSES),
            "image": f"https://img.example.cn/{src.product_id}/{r.randint(1, 9)}.jpg",
            "shop_name": src.shop_name,
            "created_at": f"2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}T08:00:00Z",
            "updated_at": None,
        }

    def patch(self) -> dict[str, Any]:
        r = self.rng
        names = r.sample(PATCHABLE, r.randint(1, 3))
        out: dict[str, Any] = {}
        for n in names:
            if n == "price":
                out[n] = round(r.uniform(1, 20000), 2)
            elif n in ("stock", "sales"):
                out[n] = r.randint(0, 100000)
            elif n == "status":
                out[n] = r.choice(STATUSES)
            elif n == "rating":
                out[n] = round(r.uniform(1, 5), 1)
            elif n == "title":
                out[n] = f"{r.choice(BRANDS)} {r.choice(ADJECTIVES)}特价 {r.choice(COLORS)}"
            elif n == "attributes":
                out[n] = {"颜色": r.choice(COLORS), "版本": r.choice(["标准版", "Pro", "Max"])}
            else:
                out[n] = f"{r.choice(ADJECTIVES)}，{r.choice(MATERIALS)}材质。"
        return out

    def event_for(self, src: _ProductSrc, kind: str) -> dict[str, Any]:
        src.version += self.rng.randint(1, 3)
        self._n += 1
        ev: dict[str, Any] = {"event_id": f"{self.prefix}-e{self._n}", "type": kind,
                              "product_id": src.product_id, "shop_id": src.shop_id, "version": src.version,
                              "occurred_at": "2024-11-11T00:00:00Z"}
        if kind == "upsert":
            ev["product"] = self.product(src)
        elif kind == "patch":
            ev["patch"] = self.patch()
        return ev

    def events(self, n: int) -> list[dict[str, Any]]:
        """``n`` events in source order. A product's first event is always an upsert."""
        out = []
        for _ in range(n):
            src = self.rng.choice(self._src)
            if src.version == 0:
                kind = "upsert"
            else:
                x = self.rng.random()
                kind = "upsert" if x < self.p_upsert else "patch" if x < self.p_upsert + self.p_patch else "delete"
            out.append(self.event_for(src, kind))
        return out


def encode(ev: dict[str, Any] | bytes) -> bytes:
    return ev if isinstance(ev, bytes) else orjson.dumps(ev)


# ----------------------------------------------------------------------------- Kafka helpers


@dataclass(frozen=True)
class Produced:
    partition: int
    offset: int
    value: bytes


def produce(bootstrap: str, topic: str, events: list[dict[str, Any] | bytes], *,
            keys: list[bytes | None] | None = None, producer: KafkaProducer | None = None) -> list[Produced]:
    """Write ``events`` in order (dicts are JSON-encoded, bytes sent as they are), keyed by product id.

    Blocks until the broker acknowledged all of them; returns partition and offset of each.
    """
    own = producer is None
    p = producer or KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=10,
                                  max_request_size=2 * 1024 * 1024, batch_size=256 * 1024)
    try:
        futures = []
        for i, ev in enumerate(events):
            key = keys[i] if keys is not None else (ev["product_id"].encode() if isinstance(ev, dict) else None)
            value = encode(ev)
            futures.append((p.send(topic, value=value, key=key), value))
        p.flush(timeout=60)
        out = []
        for f, value in futures:
            md = f.get(timeout=60)
            out.append(Produced(md.partition, md.offset, value))
        return out
    finally:
        if own:
            p.close(timeout=10)


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = c.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        return {tp.partition: off for tp, off in c.end_offsets(tps).items()}
    finally:
        c.close()


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offs = admin.list_group_offsets({group: None}).get(group) or {}
        return {tp.partition: om.offset for tp, om in offs.items() if tp.topic == topic and om.offset >= 0}
    finally:
        admin.close()


def group_members(bootstrap: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return len(admin.describe_groups([group])[group]["members"])
    finally:
        admin.close()


class NotCaughtUp(AssertionError):
    pass


def wait_caught_up(bootstrap: str, topic: str, group: str, *, timeout: float = 120.0,
                   es: Elasticsearch | None = None, index: str | None = None) -> None:
    """Wait (bounded, exponential) until the group's committed offsets equal the topic's end offsets.

    Then refresh ``index`` so that everything acknowledged is searchable. Raises
    :class:`NotCaughtUp` (an AssertionError) with the last gap after ``timeout``.
    """
    def check() -> None:
        ends = end_offsets(bootstrap, topic)
        done = committed_offsets(bootstrap, group, topic)
        gap = {p: end - done.get(p, 0) for p, end in ends.items() if end - done.get(p, 0) > 0}
        if gap:
            raise NotCaughtUp(f"group {group} behind on {topic}: {gap}")

    # A broker that just (re)started answers group look-ups with retriable errors such as
    # CoordinatorLoadInProgress while it loads __consumer_offsets: wait those out too.
    def worth_retrying(err: BaseException) -> bool:
        return isinstance(err, NotCaughtUp) or (isinstance(err, KafkaError) and err.retriable)

    for attempt in Retrying(stop=stop_after_delay(timeout), wait=wait_exponential(multiplier=0.2, max=2),
                            retry=retry_if_exception(worth_retrying), reraise=True):
        with attempt:
            check()
    if es is not None and index is not None:
        es.indices.refresh(index=index)


def read_topic(bootstrap: str, topic: str, *, timeout_s: float = 20.0) -> list[Any]:
    """Every record of ``topic`` (all partitions) from the beginning, up to the end offsets now."""
    ends = end_offsets(bootstrap, topic)
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                      max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_bytes=16 * 1024 * 1024)
    try:
        tps = [TopicPartition(topic, p) for p in ends]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(c.position(tp) < ends[tp.partition] for tp in tps):
            for recs in c.poll(timeout_ms=500).values():
                out.extend(recs)
        return out
    finally:
        c.close()


# ----------------------------------------------------------------------------- indexers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def indexer_env(*, es_url: str, bootstrap: str, topic: str, dlq_topic: str, index: str, group: str,
                metrics_port: int = 0, **extra: Any) -> dict[str, str]:
    env = {
        "POCKET_ES_URL": es_url, "POCKET_KAFKA_BOOTSTRAP": bootstrap, "POCKET_TOPIC": topic,
        "POCKET_DLQ_TOPIC": dlq_topic, "POCKET_INDEX": index, "POCKET_GROUP_ID": group,
        "POCKET_METRICS_PORT": str(metrics_port), "POCKET_BATCH_LINGER_MS": "50",
        "POCKET_SESSION_TIMEOUT_MS": "6000", "POCKET_RETRY_MAX_S": "2",
    }
    env.update({f"POCKET_{k.upper()}": str(v) for k, v in extra.items()})
    return env


class IndexerProcess:
    """``python -m indexer.main`` as a subprocess, configured through POCKET_* env vars."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_port = int(env.get("POCKET_METRICS_PORT", "0"))

    def start(self) -> IndexerProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115  (the child owns it)
        self.proc = subprocess.Popen([sys.executable, "-m", "indexer.main"], cwd=ROOT,
                                     env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up at all."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait for a clean exit; return the exit code."""
        assert self.proc is not None
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def metrics(self) -> dict[str, float]:
        """The /metrics samples as ``{"name{labels}": value}``."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        return parse_metrics(text)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> IndexerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        if self.alive:
            try:
                self.terminate(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def parse_metrics(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


@contextlib.contextmanager
def indexer_thread(settings: IndexerSettings, **kwargs: Any) -> Iterator[Any]:
    """Run an :class:`Indexer` in a thread; stop it (SIGTERM path) and join on exit."""
    from indexer.consumer import Indexer

    ix = Indexer(settings, **kwargs)
    errors: list[BaseException] = []

    def target() -> None:
        try:
            ix.run()
        except BaseException as err:  # surfaced on exit
            errors.append(err)

    t = threading.Thread(target=target, name="indexer", daemon=True)
    t.start()
    try:
        yield ix
    except BaseException as err:
        # A test that timed out waiting for this indexer says what the indexer saw (a consumer
        # that was never assigned a partition, one stuck retrying ES, or one that died).
        err.add_note(_indexer_state(ix, t, errors))
        raise
    finally:
        ix.stop()
        t.join(timeout=60)
        assert not t.is_alive(), "indexer thread did not stop"
        if errors:
            raise errors[0]


def _indexer_state(ix: Any, thread: threading.Thread, errors: list[BaseException]) -> str:
    try:
        assigned = sorted(f"{tp.topic}[{tp.partition}]" for tp in ix.consumer.assignment())
    except Exception as err:  # diagnostics only: never hide the test's own failure
        assigned = [f"unknown ({err!r})"]
    consumed = ix.metrics.registry.get_sample_value("pocket_indexer_events_consumed_total")
    return (f"indexer state: thread alive={thread.is_alive()}, assigned={assigned}, "
            f"events consumed={consumed:.0f}, retrying ES={ix._in_retry}, errors={errors!r}")


def thread_settings(*, es_url: str, bootstrap: str, topics: dict[str, str], index: str, group: str,
                    **extra: Any) -> IndexerSettings:
    # stall_restart_s: a consumer wedged in kafka-python (see Indexer._check_stalled) is replaced
    # within 10-20 s, not the production one to two minutes, so such a test heals inside its timeouts.
    values: dict[str, Any] = {"batch_linger_ms": 50, "session_timeout_ms": 6000, "retry_max_s": 2.0,
                              "stall_restart_s": 10.0, **extra}
    return IndexerSettings(es_url=es_url, kafka_bootstrap=bootstrap, topic=topics["topic"],
                           dlq_topic=topics["dlq_topic"], index=index, group_id=group, metrics_port=0, **values)


# ----------------------------------------------------------------------------- the oracle


def expected_state(events: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """The catalog that exactly-once, in-version-order delivery gives: product id -> fields or None.

    Independent of :mod:`indexer.merge`. Per product, the events are sorted by version
    (duplicates of a version collapse to one) and applied in turn: an upsert replaces the
    product, a patch sets its fields, a delete removes it. A product is present iff its last
    upsert is newer than its last delete; its fields are then the last upsert's, with the
    later patches applied. Pass only the events that should be applied (no poison).
    """
    by_product: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for ev in events:
        by_product[ev["product_id"]].setdefault(ev["version"], ev)
    out: dict[str, dict[str, Any] | None] = {}
    for pid, versions in by_product.items():
        state: dict[str, Any] | None = None
        last_upsert = last_delete = 0
        for v in sorted(versions):
            ev = versions[v]
            if ev["type"] == "upsert":
                state = {**ev["product"], "shop_id": ev["shop_id"]}
                last_upsert = v
            elif ev["type"] == "patch":
                state = {**(state or {}), **ev["patch"]}
            else:
                state = None
                last_delete = v
        out[pid] = state if last_upsert > last_delete else None
    return out


def diff_index(es: Elasticsearch, alias: str, expected: dict[str, dict[str, Any] | None]) -> list[str]:
    """Every difference between the index and ``expected``; ``[]`` when they agree.

    Present products: a ``visible`` document whose product fields equal the oracle's, and
    ``searchable`` iff on shelf. Absent ones: no document, or one neither visible nor
    searchable. Documents of unknown products must not be visible either.
    """
    es.indices.refresh(index=alias)
    docs = {h["_id"]: h["_source"] for h in scan(es, index=alias, query={"query": {"match_all": {}}}, size=2000)}
    diffs: list[str] = []
    for pid, want in expected.items():
        doc = docs.get(pid)
        if want is None:
            if doc is not None and (doc.get("visible") or doc.get("searchable")):
                diffs.append(f"{pid}: deleted/absent but visible={doc.get('visible')} "
                             f"searchable={doc.get('searchable')}")
            continue
        if doc is None:
            diffs.append(f"{pid}: missing")
            continue
        if not doc.get("visible"):
            diffs.append(f"{pid}: not visible")
        if doc.get("searchable") != (want.get("status", "on_shelf") == "on_shelf"):
            diffs.append(f"{pid}: searchable={doc.get('searchable')} but status={want.get('status')}")
        for k, v in want.items():
            if doc.get(k) != v:
                diffs.append(f"{pid}.{k}: index {doc.get(k)!r} != expected {v!r}")
    for pid, doc in docs.items():
        if pid not in expected and (doc.get("visible") or doc.get("searchable")):
            diffs.append(f"{pid}: unexpected visible document")
    return diffs


def assert_no_diffs(es: Elasticsearch, alias: str, expected: dict[str, dict[str, Any] | None]) -> None:
    diffs = diff_index(es, alias, expected)
    assert not diffs, f"{len(diffs)} differences, e.g.:\n" + "\n".join(diffs[:20])


def count_visible(es: Elasticsearch, alias: str) -> int:
    es.indices.refresh(index=alias)
    return int(es.count(index=alias, query={"term": {"visible": True}})["count"])


class Background(threading.Thread):
    """Produce ``events`` in slices of ``chunk`` every ``interval`` s on a thread (a steady stream)."""

    def __init__(self, bootstrap: str, topic: str, events: list[dict[str, Any]], *, chunk: int = 500,
                 interval: float = 0.2) -> None:
        super().__init__(daemon=True, name="producer")
        self.bootstrap, self.topic, self.events = bootstrap, topic, events
        self.chunk, self.interval = chunk, interval
        self.sent = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        p = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=10, retries=20,
                          retry_backoff_ms=500, batch_size=256 * 1024)
        try:
            while self.sent < len(self.events) and not self._halt.is_set():
                part = self.events[self.sent: self.sent + self.chunk]
                produce(self.bootstrap, self.topic, part, producer=p)
                self.sent += len(part)
                self._halt.wait(self.interval)
        except BaseException as err:
            self.error = err
        finally:
            p.close(timeout=10)

    def finish(self, timeout: float = 120.0) -> None:
        self.join(timeout=timeout)
        assert not self.is_alive(), "producer did not finish"
        if self.error:
            raise self.error
