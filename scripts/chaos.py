#!/usr/bin/env python3
"""`make chaos`: StreamForge under hard faults, with a record count at the end.

Each scenario starts a source devbroker and a separate 3-broker target devbroker (librdkafka's
mock cluster), runs the `streamforged` supervisor mirroring `src` (32 partitions) to `dst`
while a paced producer writes numbered records, injects its faults, then checks every record:

  churn            a random worker is killed with SIGKILL every few seconds
  sigstop          one worker is stopped (SIGSTOP) well past worker_timeout, then continued
  supervisor-kill  the supervisor is killed with SIGKILL and started again
  target-outage    every target broker down, up again, then Produce errors (NOT_LEADER) on the
                   target and OffsetCommit errors on the source while records flow

It prints one line per scenario: records, lost (must be 0), duplicates, the longest stall
(no new record on the target while records waited) and the time to recover after each fault
(until the group's lag is back under one second of records), and checks that the daemon's log
says what happened. Exit status 1 if anything was lost or the daemon did not come back.

  scripts/chaos.py [--short] [--scenario NAME]... [--bin DIR] [--keep]

--short is the form `make test` runs (about 3 minutes); the default is the long form.
The Python client is confluent-kafka from the wheel scripts/tansu.sh unpacks (PYTHONPATH is
set here), independent of the librdkafka the binaries under test use.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".tansu", "x", "ck"))
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

PARTITIONS = 32


def log(*args):
    print("chaos:", *args, file=sys.stderr, flush=True)


class DevBroker:
    """streamforge-devbroker with a control socket for fault commands."""

    def __init__(self, binary, work, name, brokers, topic):
        self.sock = os.path.join(work, name + ".sock")
        bootstrap_file = os.path.join(work, name + ".bootstrap")
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.proc = subprocess.Popen([binary, "--brokers", str(brokers), "--partitions", str(PARTITIONS),
                                      "--topic", topic, "--bootstrap-file", bootstrap_file,
                                      "--control-socket", self.sock],
                                     stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT)
        self.brokers = brokers
        for _ in range(200):
            if os.path.exists(bootstrap_file) and os.path.getsize(bootstrap_file) > 0:
                break
            time.sleep(0.05)
        self.bootstrap = open(bootstrap_file).read().strip()

    def command(self, line):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        s.sendall((line + "\n").encode())
        reply = s.recv(200).decode().strip()
        s.close()
        if reply != "ok":
            raise RuntimeError(f"devbroker '{line}': {reply}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class Daemon:
    def __init__(self, bin_dir, work, config):
        self.bin_dir, self.work, self.config = bin_dir, work, config
        self.sock = os.path.join(work, "control.sock")
        self.log_path = os.path.join(work, "streamforged.log")
        self.proc = None
        self.start()

    def start(self):
        logf = open(self.log_path, "a")
        self.proc = subprocess.Popen([os.path.join(self.bin_dir, "streamforged"), "--config", self.config,
                                      "--control-socket", self.sock, "--stop-timeout", "15"],
                                     stdout=logf, stderr=subprocess.STDOUT)
        logf.close()

    def status(self):
        try:
            out = subprocess.run([os.path.join(self.bin_dir, "streamforgectl"), "--socket", self.sock,
                                  "status", "--json"], capture_output=True, timeout=10)
            return json.loads(out.stdout)["result"] if out.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError, KeyError):
            return None

    def worker_pids(self):
        s = self.status()
        return [w["pid"] for w in (s or {}).get("workers", []) if w.get("pid")]

    def wait_running(self, workers, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.status()
            if s and s.get("workersUp") == workers and all(w["state"] in ("running", "idle") for w in s["workers"]):
                return True
            time.sleep(0.25)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class Load(threading.Thread):
    """Writes `count` numbered records at `rate` records/s: key key-N, header sf-seq=N."""

    def __init__(self, bootstrap, count, rate):
        super().__init__(daemon=True)
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                                  "log_level": 3})
        self.count, self.rate = count, rate
        self.errors = 0

    def run(self):
        def report(err, _msg):
            if err:
                self.errors += 1
        start = time.time()
        for i in range(self.count):
            due = start + i / self.rate
            while True:
                now = time.time()
                if now >= due:
                    break
                self.producer.poll(min(0.05, due - now))
            value = json.dumps({"seq": i, "pad": "x" * 120}).encode()
            while True:
                try:
                    self.producer.produce("src", key=f"key-{i}".encode(), value=value,
                                          headers=[("sf-seq", str(i).encode())], on_delivery=report)
                    break
                except BufferError:
                    self.producer.poll(0.05)
        self.producer.flush(60)


class Watch(threading.Thread):
    """Samples the target's record count and the group's lag four times a second."""

    def __init__(self, source, target, group):
        super().__init__(daemon=True)
        self.src = Consumer({"bootstrap.servers": source, "group.id": group, "log_level": 0})
        self.dst = Consumer({"bootstrap.servers": target, "group.id": "chaos-watch", "log_level": 0})
        self.samples = []  # (time, target records, group lag)
        self.stopped = False

    @staticmethod
    def high(consumer, topic):
        total = 0
        for p in range(PARTITIONS):
            _, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=0.5, cached=False)
            total += hi
        return total

    def run(self):
        parts = [TopicPartition("src", p) for p in range(PARTITIONS)]
        while not self.stopped:
            t = time.time()
            try:
                src_high = self.high(self.src, "src")
                committed = sum(max(0, tp.offset) for tp in self.src.committed(parts, timeout=2))
                lag = src_high - committed
            except Exception:  # the source is never faulted; a slow answer just skips a sample
                lag = None
            try:
                dst = self.high(self.dst, "dst")
            except Exception:  # target down: no sample
                dst = None
            self.samples.append((t, dst, lag))
            time.sleep(max(0, 0.25 - (time.time() - t)))

    def longest_stall(self):
        """Longest time the target got nothing new while the group had records waiting."""
        longest, since, last = 0.0, None, None
        for t, dst, lag in self.samples:
            waiting = lag is not None and lag > 0
            grew = dst is not None and last is not None and dst > last
            if dst is not None:
                last = dst if last is None else max(last, dst)
            if waiting and not grew:
                since = since or t
                longest = max(longest, t - since)
            else:
                since = None
        return longest

    def recovered_after(self, moment, threshold):
        """Seconds from `moment` until the group's lag is back under `threshold`."""
        for t, _, lag in self.samples:
            if t >= moment and lag is not None and lag <= threshold:
                return t - moment
        return None

    def close(self):
        self.stopped = True
        self.join(5)
        self.src.close()
        self.dst.close()


def read_sequences(bootstrap, topic):
    """Every record of a topic (no group): the sf-seq header of each."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "chaos-verify", "enable.auto.commit": False,
                  "enable.partition.eof": True, "log_level": 0})
    ends = {}
    for p in range(PARTITIONS):
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
        if hi > lo:
            ends[p] = hi
    c.assign([TopicPartition(topic, p, 0) for p in ends])
    seqs, done, deadline = [], set(), time.time() + 120
    while len(done) < len(ends) and time.time() < deadline:
        for m in c.consume(10000, 1.0):
            if m.error():
                if m.error().code() == -191:  # partition EOF
                    done.add(m.partition())
                continue
            seqs.append(int(dict(m.headers() or [])["sf-seq"]))
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
    c.close()
    return seqs


def config_file(work, source, target, workers):
    path = os.path.join(work, "config.json")
    with open(path, "w") as f:
        json.dump({
            "appid": "chaos", "bootstrap": source, "target_broker": target, "input": "src", "output": "dst",
            "offset": "earliest", "workers": workers, "stats_interval": 5,
            "consumer_properties": dict({"session.timeout.ms": 6000}, **json.loads(os.environ.get("CHAOS_CONSUMER_PROPERTIES", "{}"))),
        }, f)
    return path


def run_scenario(name, args):
    short = args.short
    rate = 1500 if short else 2000
    seconds = 30 if short else 75
    workers = 2 if name == "target-outage" else 3
    work = tempfile.mkdtemp(prefix=f"sf-chaos-{name}-")
    devbroker = os.path.join(args.bin, "streamforge-devbroker")
    source = DevBroker(devbroker, work, "source", 1, "src")
    target = DevBroker(devbroker, work, "target", 3, "dst")
    daemon = Daemon(args.bin, work, config_file(work, source.bootstrap, target.bootstrap, workers))
    problems, faults = [], []  # faults: (name, time the fault ended)
    expect_in_log = []
    watch = None
    try:
        if not daemon.wait_running(workers):
            raise RuntimeError("the daemon did not start")
        watch = Watch(source.bootstrap, target.bootstrap, "chaos")
        watch.start()
        load = Load(source.bootstrap, rate * seconds, rate)
        load.start()
        time.sleep(5)
        rng = random.Random(7)
        if name == "churn":
            end = time.time() + (15 if short else 45)
            kills = 0
            while time.time() < end:
                pids = daemon.worker_pids()
                if pids:
                    os.kill(rng.choice(pids), signal.SIGKILL)
                    kills += 1
                    faults.append((f"kill -9 #{kills}", time.time()))
                time.sleep(3)
            expect_in_log.append("sent from outside the supervisor")
        elif name == "sigstop":
            pid = daemon.worker_pids()[0]
            os.kill(pid, signal.SIGSTOP)
            time.sleep(12 if short else 30)
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass  # already killed and reaped by the supervisor
            faults.append(("SIGSTOP", time.time()))
            expect_in_log.append("is unresponsive")
        elif name == "supervisor-kill":
            for round_ in range(1 if short else 3):
                daemon.proc.kill()
                daemon.proc.wait()
                time.sleep(2)
                daemon.start()
                faults.append((f"supervisor kill -9 #{round_ + 1}", time.time()))
                if not short:
                    time.sleep(15)
            expect_in_log.append("supervisor started")
        elif name == "target-outage":
            down = 12 if short else 25
            for b in range(1, 4):
                target.command(f"down {b}")
            time.sleep(down)
            for b in range(1, 4):
                target.command(f"up {b}")
            target.command("error 0 50 6")    # Produce: NOT_LEADER_OR_FOLLOWER
            source.command("error 8 20 27")   # OffsetCommit: REBALANCE_IN_PROGRESS
            faults.append(("target down/up + errors", time.time()))
            expect_in_log.append("deliveries stalled")
            expect_in_log.append("deliveries resumed")
        load.join()
        total = load.count
        if load.errors:
            problems.append(f"the load generator failed to write {load.errors} records")
        # Everything must arrive, and the daemon must be healthy again.
        deadline = time.time() + 120
        while time.time() < deadline:
            lag = watch.samples[-1][2] if watch.samples else None
            if lag == 0 and daemon.wait_running(workers, timeout=1):
                break
            time.sleep(1)
        else:
            problems.append("not caught up 120 s after the load ended")
        seqs = read_sequences(target.bootstrap, "dst")
        distinct = set(seqs)
        lost = sorted(set(range(total)) - distinct)
        duplicates = len(seqs) - len(distinct)
        recover = []
        for fault, at in faults:
            r = watch.recovered_after(at, rate)
            recover.append(f"{fault}: {'%.1fs' % r if r is not None else 'never'}")
            if r is None:
                problems.append(f"did not recover after {fault}")
        if lost:
            problems.append(f"{len(lost)} records lost: {lost[:20]}")
        text = daemon.log
        for needle in expect_in_log:
            if needle not in text:
                problems.append(f"the log does not say '{needle}'")
        print(f"chaos: {name}: records={total} lost={len(lost)} duplicates={duplicates} "
              f"({100.0 * duplicates / total:.1f}%) longest_stall={watch.longest_stall():.1f}s "
              f"recovered_in=[{'; '.join(recover)}]", flush=True)
    except Exception as e:  # a scenario that cannot run is a failure, not a skip
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        if watch:
            watch.close()
        daemon.stop()
        target.stop()
        source.stop()
    for p in problems:
        print(f"chaos: {name}: FAILED: {p}", flush=True)
    if problems or args.keep:
        log(f"{name}: work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="the short form run by `make test`")
    parser.add_argument("--scenario", action="append", choices=["churn", "sigstop", "supervisor-kill", "target-outage"])
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"), help="directory of the binaries")
    parser.add_argument("--keep", action="store_true", help="keep the work directories")
    args = parser.parse_args()
    scenarios = args.scenario or ["churn", "sigstop", "supervisor-kill", "target-outage"]
    results = [run_scenario(s, args) for s in scenarios]
    passed = sum(results)
    print(f"chaos: {passed} passed, {len(results) - passed} failed", flush=True)
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
