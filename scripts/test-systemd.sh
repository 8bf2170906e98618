#!/usr/bin/env bash
# The unit under a real systemd (DESIGN §7): boots a minimal Debian bookworm with systemd as
# PID 1 in systemd-nspawn, installs the .deb there with apt (so Depends is what brings
# librdkafka1 & co.), points it at a streamforge-devbroker on the host's loopback (nspawn
# without --private-network shares the host's network namespace; checked below) and checks:
# start returns after READY=1, STATUS=, records flow under the hardening, reload waits for the
# workers' roll, an invalid reload keeps the running configuration, the watchdog is fed,
# kill -9 of the main process restarts it, exit 78 is not restarted, stop drains, purge cleans.
#
#   scripts/test-systemd.sh [--no-build] [--keep]     (as root; takes 1-3 minutes, plus about
#                                                      5 the first time to debootstrap the root)
#
# --no-build: package the existing release build. --keep: leave the container running at the end
# (its PID 1 is printed) and skip the cleanup. Environment:
#   STREAMFORGE_DEB            test this package instead of building one
#   STREAMFORGE_NSPAWN_CACHE   where the pristine bookworm root is cached (/var/tmp/streamforge-nspawn)
#   STREAMFORGE_DEBIAN_MIRROR  Debian mirror (default: the one apt uses here)
#   STREAMFORGE_SCRATCH_PATH   SwiftPM scratch path of the release build (.build-deb)
# Not covered here: cgroup limits (TasksMax, MemoryMax, OOMPolicy) are not enforced in this
# sandbox's container.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$PWD

build_args=() keep=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build_args+=(--no-build) ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--no-build] [--keep]" >&2; exit 64 ;;
  esac
done

pass=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
say() { echo "== $*"; }
diag() { # the unit's journal, on failure
  if [ -n "${pid1:-}" ] && [ -d "/proc/$pid1" ]; then
    echo "--- journalctl -u streamforge (last 60 lines)" >&2
    c journalctl -u streamforge --no-pager -o short-monotonic -n 60 >&2 || true
  fi
}
fail() { echo "FAIL - $*" >&2; diag; exit 1; }
ms() { date +%s%3N; }

[ "$(id -u)" -eq 0 ] || fail "run as root: debootstrap, systemd-nspawn and nsenter need it"

# --- Tools ------------------------------------------------------------------------------------
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v kcat >/dev/null || need+=(kcat)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  say "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- The package and the broker ----------------------------------------------------------------
scratch=${STREAMFORGE_SCRATCH_PATH:-$root_dir/.build-deb}
deb=${STREAMFORGE_DEB:-}
if [ -z "$deb" ]; then
  packaging/build-deb.sh "${build_args[@]}"
  deb=out/streamforge_$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)_$(dpkg --print-architecture).deb
fi
[ -f "$deb" ] || fail "no package at $deb"
bin_dir=$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)
if [ ! -x "$bin_dir/streamforge-devbroker" ] || [ ${#build_args[@]} -eq 0 ]; then
  swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product streamforge-devbroker
fi

# --- The cached bookworm root -------------------------------------------------------------------
cache=${STREAMFORGE_NSPAWN_CACHE:-/var/tmp/streamforge-nspawn}
pristine=$cache/bookworm-minbase
mirror=${STREAMFORGE_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  # The first Debian archive apt uses here: deb822 (URIs:) or one-line sources.
  mirror=$({ cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
           awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit} /^deb / && $0 ~ / bookworm / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) {print $i; exit}}')
  [ -n "$mirror" ] || fail "no Debian archive in apt's sources: set STREAMFORGE_DEBIAN_MIRROR to one"
fi
if [ ! -x "$pristine/lib/systemd/systemd" ]; then
  say "debootstrap bookworm from $mirror into $pristine (once; about 5 minutes)"
  rm -rf "$pristine.tmp"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps bookworm "$pristine.tmp" "$mirror" \
    > "$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log" >&2; fail "debootstrap failed (log: $cache/debootstrap.log)"; }
  mv "$pristine.tmp" "$pristine"
fi

# --- Boot it ------------------------------------------------------------------------------------
run=$(mktemp -d "$cache/run.XXXXXX")
machine=sftest$$
nspawn_pid="" pid1="" broker_pid=""
cleanup() {
  set +e
  if [ "$keep" = 1 ] && [ -n "$pid1" ]; then
    echo "--keep: container PID 1 is $pid1 (nsenter -t $pid1 -a systemctl ...); root $run; devbroker pid $broker_pid"
    return
  fi
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid"   # nspawn asks the container's systemd to power off
    for _ in $(seq 300); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    # Still there after 30 s: SIGKILL to the container's PID 1 ends its whole PID namespace.
    [ -n "$pid1" ] && kill -KILL "$pid1" 2>/dev/null
    kill -KILL "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
  fi
  if [ -n "$broker_pid" ]; then kill -TERM "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; fi
  exec 3>&- 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT

say "copying the root to $run"
cp -a "$pristine/." "$run/"
cp "$deb" "$run/root/streamforge.deb"

# A tmpfs on /run in a private mount namespace: nspawn keeps its state there, and this host's
# /run has no running systemd. --register=no --keep-unit: there is no host systemd or machined.
unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /run && exec "$@"' sh \
  systemd-nspawn -D "$run" -b --register=no --keep-unit --console=passive -M "$machine" \
  > "$cache/last-nspawn.log" 2>&1 &
nspawn_pid=$!
for _ in $(seq 200); do
  pid1=$(pgrep -P "$nspawn_pid" -x systemd || true)
  [ -n "$pid1" ] && break
  sleep 0.1
done
[ -n "$pid1" ] || { cat "$cache/last-nspawn.log" >&2; fail "the container did not start"; }

c() {
  nsenter -t "$pid1" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}
prop() { c systemctl show -p "$1" --value streamforge.service; }
workers() { c ps -o pid= --ppid "$(prop MainPID)" | tr -d ' ' | sort -n | tr '\n' ' '; }
ctl_json() { c streamforgectl status --json; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }
journal_since() { c journalctl -u streamforge.service --no-pager -o cat --since "@$1"; }

state=""
for _ in $(seq 240); do   # until PID 1 answers on its private bus and has finished booting
  state=$(c systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.5
done
case "$state" in
  running|degraded) ok "container booted: systemd $(c systemctl --version | head -1 | cut -d' ' -f2) is PID 1 ($state)" ;;
  *) cat "$cache/last-nspawn.log" >&2; fail "the container's systemd is '$state'" ;;
esac
[ "$(readlink "/proc/$pid1/ns/net")" = "$(readlink /proc/self/ns/net)" ] ||
  fail "the container has its own network namespace: the devbroker on loopback is out of reach"
ok "the container shares the host's network namespace (loopback reaches the devbroker)"

# --- Install the package ------------------------------------------------------------------------
say "apt-get install ./streamforge.deb in the container (Depends from $mirror)"
c apt-get update -qq >/dev/null || fail "apt-get update in the container"
c apt-get install -y -q --no-install-recommends /root/streamforge.deb > "$run/root/apt.log" 2>&1 ||
  { cat "$run/root/apt.log" >&2; fail "apt-get install of the package"; }
grep -E '^(Setting up|Get:)' "$run/root/apt.log" | sed 's/^/   /' | head -20
[ "$(c systemctl is-enabled streamforge.service)" = enabled ] || fail "the unit is not enabled after install"
[ "$(prop ActiveState)" = inactive ] || fail "the package started the unit with the example configuration"
ok "installed: unit enabled, not started (the example configuration points at nothing)"
c getent passwd streamforge >/dev/null || fail "no streamforge user"
c systemd-analyze verify --man=no /lib/systemd/system/streamforge.service > "$run/root/verify.log" 2>&1 ||
  { cat "$run/root/verify.log" >&2; fail "systemd-analyze verify"; }
if [ -s "$run/root/verify.log" ]; then sed 's/^/   verify: /' "$run/root/verify.log"; fi
ok "systemd-analyze verify --man=no streamforge.service (no man-db in minbase)"

# --- The broker on the host's loopback ----------------------------------------------------------
say "streamforge-devbroker on loopback"
mkfifo "$run/root/broker.in"
"$bin_dir/streamforge-devbroker" --brokers 1 --topic in:4 --topic out:4 --bootstrap-file "$run/root/bootstrap" \
  < "$run/root/broker.in" > "$run/root/broker.log" 2>&1 &
broker_pid=$!
exec 3> "$run/root/broker.in"
for _ in $(seq 100); do [ -s "$run/root/bootstrap" ] && break; sleep 0.1; done
bootstrap=$(cat "$run/root/bootstrap")
[ -n "$bootstrap" ] || fail "the devbroker did not start: $(cat "$run/root/broker.log")"
echo "   bootstrap $bootstrap"

write_config() {
  cat > "$run/etc/streamforge/config.json" <<JSON
{
  "appid": "sf-systemd-test",
  "bootstrap": "$bootstrap",
  "input": "in",
  "output": "out",
  "offset": "earliest",
  "workers": 2,
  "static_membership": false,
  "stats_interval": 2,
  "commit_strategy": {"commit_interval_ms": 500},
  "consumer_properties": {"session.timeout.ms": 6000}
}
JSON
}
write_bad_config() {
  printf '{\n  "appid": "sf-systemd-test",\n  "bootstrap": "%s",\n  "inptu": "in"\n}\n' "$bootstrap" \
    > "$run/etc/streamforge/config.json"
}
write_config
c streamforged check-config /etc/streamforge/config.json >/dev/null || fail "the test configuration does not validate"

produced=0
produce() { # count
  local first=$((produced + 1)) last=$((produced + $1))
  for i in $(seq "$first" "$last"); do printf 'k%d\t{"n":%d}\n' "$i" "$i"; done |
    kcat -P -b "$bootstrap" -t in -K "$(printf '\t')" || fail "kcat could not produce"
  produced=$last
}
out_keys() { kcat -C -b "$bootstrap" -t out -e -q -f '%k\n' 2>/dev/null | sort -u | wc -l; }
produce 500

# --- Start: returns once READY=1 arrived -------------------------------------------------------
say "systemctl start"
t0=$(ms); since=$(date +%s)
c systemctl start streamforge.service || fail "systemctl start"
t1=$(ms)
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] || fail "not active/running after start: $(prop ActiveState)/$(prop SubState)"
status=$(ctl_json) || fail "streamforgectl status right after start"
up=$(echo "$status" | jget 'd["result"]["workersUp"]') || fail "unreadable status: $status"
parts=$(echo "$status" | jget 'sum(len(w["partitions"]) for w in d["result"]["workers"])') || fail "unreadable status: $status"
[ "$up" = 2 ] && [ "$parts" = 4 ] || fail "start returned before the workers were ready: workersUp=$up partitions=$parts"
ok "systemctl start returned in $((t1 - t0)) ms, active/running, 2 workers up holding all 4 partitions (READY=1 came after assignment)"
main=$(prop MainPID)
[ "$(c ps -o user= -p "$main" | tr -d ' ')" = streamforge ] || fail "the daemon does not run as streamforge"
sock=$(c stat -c '%a %U:%G' /run/streamforge/control.sock) || fail "no control socket"
[ "$sock" = "660 streamforge:streamforge" ] || fail "control socket is $sock"
ok "runs as streamforge; /run/streamforge/control.sock $sock"
text=$(prop StatusText)
[ -n "$text" ] || fail "no STATUS= text"
c systemctl status --no-pager streamforge.service | grep -q "Status: \"$text\"" || c systemctl status --no-pager streamforge.service | grep -q 'Status: "' ||
  fail "systemctl status shows no Status line"
ok "systemctl status shows Status: \"$text\""
[ "$(prop WatchdogUSec)" = 30s ] || fail "WatchdogUSec is $(prop WatchdogUSec)"
wd0=$(prop WatchdogTimestampMonotonic) wd_t0=$(date +%s)

# --- Records flow under the hardening -------------------------------------------------------------
for _ in $(seq 150); do [ "$(out_keys)" -ge "$produced" ] && break; sleep 0.2; done
[ "$(out_keys)" -ge "$produced" ] || fail "only $(out_keys) of $produced records reached 'out'"
ok "$produced records mirrored from 'in' to 'out' under the unit's sandbox"

# --- Reload: waits for the roll --------------------------------------------------------------------
say "systemctl reload"
before=$(workers)
t0=$(ms); since=$(date +%s)
c systemctl reload streamforge.service || fail "systemctl reload"
t1=$(ms)
after=$(workers)
[ "$(prop ActiveState)" = active ] || fail "not active after reload"
[ "$(prop MainPID)" = "$main" ] || fail "reload replaced the main process"
for p in $before; do
  case " $after " in *" $p "*) fail "systemctl reload returned in $((t1 - t0)) ms before worker $p was rolled (before: $before, after: $after)" ;; esac
done
[ "$(echo "$after" | wc -w)" = 2 ] || fail "after reload the workers are: $after"
journal_since "$since" | grep -q "reloading on SIGHUP" || fail "the journal does not show the SIGHUP reload"
ok "systemctl reload returned after $((t1 - t0)) ms with both workers rolled (before: $before; after: $after)"

say "systemctl reload with an invalid file keeps the running configuration"
write_bad_config
since=$(date +%s)
c systemctl reload streamforge.service || fail "systemctl reload (invalid file) failed"
[ "$(prop ActiveState)" = active ] && [ "$(prop MainPID)" = "$main" ] || fail "an invalid reload stopped the daemon"
journal_since "$since" | grep -q "inptu" || fail "the journal does not show the diagnostics of the invalid file"
ok "invalid reload: still active, same pid; the journal names the bad key: $(journal_since "$since" | grep -m1 inptu)"
write_config

# --- Watchdog --------------------------------------------------------------------------------------
produce 200
wait_s=$((wd_t0 + 17 - $(date +%s)))
[ "$wait_s" -le 0 ] || sleep "$wait_s"
wd1=$(prop WatchdogTimestampMonotonic)
[ "$wd1" -gt "$wd0" ] || fail "no WATCHDOG=1 in 17 s (WatchdogTimestampMonotonic $wd0 → $wd1)"
ok "watchdog fed: WatchdogTimestamp advanced by $(((wd1 - wd0) / 1000)) ms"

# --- kill -9 of the main process: Restart=on-failure -----------------------------------------------
say "kill -9 of the main process"
old_workers=$(workers) restarts=$(prop NRestarts)
t0=$(ms)
c kill -9 "$main"
for _ in $(seq 300); do
  m=$(prop MainPID)
  [ "$(prop ActiveState)" = active ] && [ "$m" != 0 ] && [ "$m" != "$main" ] && break
  sleep 0.1
done
t1=$(ms)
[ "$(prop ActiveState)" = active ] && [ "$(prop MainPID)" != "$main" ] || fail "not restarted after kill -9: $(prop ActiveState) pid $(prop MainPID)"
[ "$(prop NRestarts)" -gt "$restarts" ] || fail "NRestarts did not grow"
for p in $old_workers; do c kill -0 "$p" 2>/dev/null && fail "worker $p of the killed daemon survived"; done
main=$(prop MainPID)
ok "restarted by systemd in $((t1 - t0)) ms (NRestarts $(prop NRestarts), new pid $main); the old workers ($old_workers) are gone"

# --- Exit 78: not restarted -----------------------------------------------------------------------------
say "a broken configuration: exit 78, no restart"
write_bad_config
since=$(date +%s)
c systemctl restart streamforge.service 2>/dev/null && fail "systemctl restart succeeded with an invalid configuration"
sleep 6   # three times RestartSec
[ "$(prop ActiveState)" = failed ] || fail "ActiveState is $(prop ActiveState), not failed"
[ "$(prop ExecMainStatus)" = 78 ] || fail "ExecMainStatus is $(prop ExecMainStatus), not 78"
starts=$(journal_since "$since" | grep -c "supervisor started\|Scheduled restart job" || true)
[ "$starts" = 0 ] || fail "systemd restarted it after exit 78: $(journal_since "$since" | grep "Scheduled restart job\|supervisor started")"
ok "failed with status 78 and stayed down for 6 s: no restart scheduled (Result=$(prop Result)); journal: $(journal_since "$since" | grep -m1 "error:")"
write_config
c systemctl reset-failed streamforge.service
c systemctl start streamforge.service || fail "start after fixing the configuration"
main=$(prop MainPID)

# --- Stop drains ------------------------------------------------------------------------------------------
say "systemctl stop"
produce 300
sleep 1
since=$(date +%s); t0=$(ms)
c systemctl stop streamforge.service || fail "systemctl stop"
t1=$(ms)
[ "$(prop ActiveState)" = inactive ] || fail "ActiveState is $(prop ActiveState) after stop"
[ "$(prop ExecMainStatus)" = 0 ] && [ "$(prop Result)" = success ] ||
  fail "stop: ExecMainStatus=$(prop ExecMainStatus) Result=$(prop Result)"
log=$(journal_since "$since")
echo "$log" | grep -Eq "timed out|Killing process|SIGKILL" && fail "stop needed SIGKILL: $(echo "$log" | grep -E 'timed out|Killing|SIGKILL')"
[ "$((t1 - t0))" -lt 30000 ] || fail "stop took $((t1 - t0)) ms"
ok "systemctl stop took $((t1 - t0)) ms; exit 0, Result=success, nothing SIGKILLed"
echo "$log" | grep -iE "drain|stopp|exit" | sed 's/^/   journal: /' | head -8
for _ in $(seq 100); do [ "$(out_keys)" -ge "$produced" ] && break; sleep 0.2; done
[ "$(out_keys)" -ge "$produced" ] || fail "after stop only $(out_keys) of $produced keys reached 'out'"
ok "all $produced records (distinct keys) reached 'out' across reloads, a kill -9 and a restart"
c journalctl -u streamforge.service --no-pager -o cat | grep -q "reception only permitted for main PID" &&
  fail "a worker sent sd_notify messages (rejected by NotifyAccess=main)"
ok "no notification from a process other than the main one"
echo "   $(c systemd-analyze security streamforge.service --no-pager 2>/dev/null | tail -1)"

# --- Purge: prerm stops it, postrm removes user and state -------------------------------------------------
say "apt-get purge while running"
c systemctl start streamforge.service || fail "start before purge"
c apt-get purge -y -q streamforge > "$run/root/purge.log" 2>&1 || { cat "$run/root/purge.log" >&2; fail "apt-get purge"; }
c pgrep -x streamforged >/dev/null && fail "streamforged still runs after purge"
c getent passwd streamforge >/dev/null && fail "purge left the streamforge user"
for p in /var/lib/streamforge /etc/streamforge /lib/systemd/system/streamforge.service \
         /etc/systemd/system/multi-user.target.wants/streamforge.service; do
  c test -e "$p" && fail "purge left $p"
done
[ "$(c systemctl show -p LoadState --value streamforge.service)" = not-found ] || fail "systemd still knows the unit after purge"
ok "purge stopped the daemon and removed the unit, user, state and configuration"

echo "test-systemd: $pass checks passed"
