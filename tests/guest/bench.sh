#!/usr/bin/env bash
# fio 4 KiB random read / random write at QD1 and QD32 (libaio, direct) in the
# test guest, on ocp-nvme, QEMU's C nvme and virtio-blk-pci, each on a null-co
# backend and on a raw file.  Runs are interleaved (rep 1 of every
# configuration, then rep 2, ...) so drifts in host load spread evenly.
#
# usage: bench.sh [-o OUT.md] [--devices "ocp-nvme nvme virtio"] [--backends "null file"]
#   (devices: ocp-nvme, ocp-nvme-ioeventfd, ocp-nvme-iothread, nvme, virtio,
#   virtio-iothread; -iothread: the device's property iothread)
# environment: REPS (default 3), RUNTIME (s per job, default 10), RAMP (s,
#   default 2), BENCH_SIZE (LBA span and file size, default 1G), BENCH_CPU
#   (guest CPU model, default max), QEMU, OCP_NVME_CACHE, BENCH_FILE_DIR
#   (where the raw file lives, default /tmp)
# Prints and writes (default <repo>/out/bench.md) a table of the median IOPS,
# median p99 completion latency and the IOPS ratios against QEMU's nvme and
# against virtio-blk.
# Raw per-run results go next to it (bench-runs.tsv, bench-logs/).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export QEMU=${QEMU:-$REPO/build/qemu-system-x86_64}
OUTMD=$REPO/out/bench.md
DEVICES="ocp-nvme nvme virtio" BACKENDS="null file"
while [ $# -gt 0 ]; do
  case $1 in
    -o|--output) OUTMD=$2; shift 2 ;;
    --devices) DEVICES=$2; shift 2 ;;
    --backends) BACKENDS=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
REPS=${REPS:-3} RUNTIME=${RUNTIME:-10} RAMP=${RAMP:-2} SIZE=${BENCH_SIZE:-1G}
CPU=${BENCH_CPU:-max}
mkdir -p "$(dirname "$OUTMD")"
OUTMD=$(cd "$(dirname "$OUTMD")" && pwd)/$(basename "$OUTMD")
RUNS=${OUTMD%.md}-runs.tsv
"$HERE/build-guest.sh" || exit 1

WORK=$(mktemp -d /tmp/ocp-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FILE=$(mktemp "${BENCH_FILE_DIR:-/tmp}/ocp-bench-disk.XXXXXX.raw")
trap 'rm -rf "$WORK" "$FILE"' EXIT
fallocate -l "$SIZE" "$FILE" 2>/dev/null || truncate -s "$SIZE" "$FILE"

JOBS="randread:1 randread:32 randwrite:1 randwrite:32"
# guest script: one fio per job, JSON between markers
for kind in ocp-nvme ocp-nvme-ioeventfd ocp-nvme-iothread nvme virtio virtio-iothread; do
  case $kind in virtio*) disk=/dev/vda ;; *) disk=/dev/nvme0n1 ;; esac
  {
    echo "DISK=$disk"
    echo '[ -b "$DISK" ] || { echo "bench: no $DISK"; exit 1; }'
    # The disk must be the device named: its PCI function's IDs and driver.
    case $kind in
      ocp-nvme*) ids="0x1b36 0x0015 nvme" ;;
      nvme)     ids="0x1b36 0x0010 nvme" ;;
      virtio*)  ids="0x1af4 0x0002 virtio_blk" ;;  # the virtio device (block)
    esac
    echo "set -- $ids"
    echo 'pci=$(readlink -f /sys/block/${DISK#/dev/}/device); while [ ! -f "$pci/vendor" ] && [ "$pci" != / ]; do pci=${pci%/*}; done'
    echo 'got="$(cat $pci/vendor) $(cat $pci/device) $(basename "$(readlink -f $pci/driver)")"'
    echo '[ "$got" = "$1 $2 $3" ] || { echo "bench: $DISK is $got, not $1 $2 $3"; exit 1; }'
    echo 'echo "bench: $DISK is PCI $got"'
    for j in $JOBS; do
      rw=${j%:*} qd=${j#*:}
      echo "echo '@@BENCH-BEGIN $rw-qd$qd'"
      echo "fio --name=$rw-qd$qd --filename=\$DISK --ioengine=libaio --direct=1 --rw=$rw --bs=4k" \
           "--iodepth=$qd --size=$SIZE --time_based --runtime=$RUNTIME --ramp_time=$RAMP" \
           "--norandommap --randrepeat=0 --output-format=json"
      echo "echo \"@@BENCH-END $rw-qd$qd \$?\""
    done
    echo "exit 0"
  } >"$WORK/bench-$kind.sh"
done

devargs() {  # KIND BACKEND
  local drive
  case $2 in
    null) drive="if=none,id=d0,driver=null-co,read-zeroes=on,size=4G" ;;
    file) drive="if=none,id=d0,file=$FILE,format=raw,cache=none,aio=threads" ;;
  esac
  echo "-cpu $CPU"
  case $1 in
    ocp-nvme) echo "-drive $drive -device ocp-nvme,drive=d0,serial=BENCH0001" ;;
    ocp-nvme-ioeventfd)
              echo "-drive $drive -device ocp-nvme,drive=d0,serial=BENCH0001,ioeventfd=on" ;;
    nvme)     echo "-drive $drive -device nvme,drive=d0,serial=BENCH0001" ;;
    virtio)   echo "-drive $drive -device virtio-blk-pci,drive=d0,serial=BENCH0001" ;;
    ocp-nvme-iothread)
              echo "-object iothread,id=io0 -drive $drive" \
                   "-device ocp-nvme,drive=d0,serial=BENCH0001,iothread=io0" ;;
    virtio-iothread)
              echo "-object iothread,id=io0 -drive $drive" \
                   "-device virtio-blk-pci,drive=d0,serial=BENCH0001,iothread=io0" ;;
  esac
}

printf 'rep\tbackend\tdevice\tjob\tiops\tp99_us\tstatus\n' >"$RUNS"
T0=$(date +%s)
for rep in $(seq 1 "$REPS"); do
  for be in $BACKENDS; do
    for kind in $DEVICES; do
      log=$WORK/$kind-$be-$rep.log
      t=$(date +%s)
      # shellcheck disable=SC2046
      "$HERE/run-guest.sh" --quiet --log "$log" --timeout $(( 120 + 4 * (RUNTIME + RAMP) * 3 )) \
        "$WORK/bench-$kind.sh" -- $(devargs "$kind" "$be") >/dev/null 2>"$WORK/err"
      grc=$?
      mkdir -p "${OUTMD%.md}-logs"
      cp "$log" "${OUTMD%.md}-logs/$kind-$be-$rep.log" 2>/dev/null
      python3 - "$log" "$rep" "$be" "$kind" "$JOBS" >>"$RUNS" <<'PY'
import json, re, sys
log, rep, be, kind, jobs = sys.argv[1:]
text = open(log, "rb").read().decode("utf-8", "replace").replace("\r", "")
for j in jobs.split():
    rw, qd = j.split(":")
    name = "%s-qd%s" % (rw, qd)
    m = re.search(r"@@BENCH-BEGIN %s\n(.*?)@@BENCH-END %s (\d+)" % (name, name), text, re.S)
    iops = p99 = ""
    if not m:
        status = "no result"
    else:
        body, rc = m.group(1), int(m.group(2))
        status = "ok" if rc == 0 else "fio exit %d" % rc
        s = body.find("{")
        try:
            d = json.loads(body[s:body.rfind("}") + 1])
            job = d["jobs"][0]
            side = job["read" if rw == "randread" else "write"]
            if job.get("error"): status = "fio error %d" % job["error"]
            iops = "%.0f" % side["iops"]
            pct = side.get("clat_ns", {}).get("percentile", {})
            p99 = "%.0f" % (pct.get("99.000000", 0) / 1000.0) if pct else ""
        except Exception as e:
            status = status if status != "ok" else "no JSON"
    print("\t".join([rep, be, kind, name, iops, p99, status]))
PY
      echo "# rep $rep $be $kind: $(( $(date +%s) - t )) s (guest status $grc)" >&2
    done
  done
done

python3 - "$RUNS" "$OUTMD" "$REPS" "$RUNTIME" "$RAMP" "$SIZE" "$(( $(date +%s) - T0 ))" "$CPU" <<'PY'
import statistics, sys, datetime, subprocess
runs, outmd, reps, runtime, ramp, size, took, cpu = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(runs)][1:]
data = {}
for rep, be, kind, job, iops, p99, st in rows:
    data.setdefault((be, kind, job), []).append((iops, p99, st))
def med(vals):
    v = [float(x) for x in vals if x]
    return statistics.median(v) if v else None
order_be = [b for b in ["null", "file"] if any(k[0] == b for k in data)]
order_dev = [d for d in ["ocp-nvme", "ocp-nvme-ioeventfd", "ocp-nvme-iothread", "nvme", "virtio",
                         "virtio-iothread"] if any(k[1] == d for k in data)]
order_job = ["randread-qd1", "randread-qd32", "randwrite-qd1", "randwrite-qd32"]
lines = ["# fio 4 KiB random I/O in the TCG test guest", "",
         "%s UTC; %s repetition(s), interleaved; %s s per job after %s s ramp; LBA span %s; libaio, direct=1; "
         "-M q35 -accel tcg -cpu %s -smp 2 -m 1G. Medians over the repetitions; p99 = 99th percentile completion latency. "
         "Backends: null = `driver=null-co,read-zeroes=on`, file = raw file (`cache=none,aio=threads`). "
         "Total %s s." % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), reps, runtime, ramp, size, cpu, took), "",
         "| backend | workload | device | IOPS | p99 (µs) | IOPS vs nvme | IOPS vs virtio-blk | runs ok |",
         "|---|---|---|---:|---:|---:|---:|---|"]
for be in order_be:
    for job in order_job:
        base = med([r[0] for r in data.get((be, "nvme", job), []) if r[2] == "ok"])
        vbase = med([r[0] for r in data.get((be, "virtio", job), []) if r[2] == "ok"])
        for dev in order_dev:
            rs = data.get((be, dev, job), [])
            ok = [r for r in rs if r[2] == "ok"]
            iops, p99 = med([r[0] for r in ok]), med([r[1] for r in ok])
            ratio = "%.2f" % (iops / base) if iops and base else "–"
            vratio = "%.2f" % (iops / vbase) if iops and vbase else "–"
            bad = sorted({r[2] for r in rs if r[2] != "ok"})
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %d/%d%s |" % (
                be, job, dev, "%.0f" % iops if iops else "–", "%.0f" % p99 if p99 else "–",
                ratio, vratio, len(ok), len(rs), (" (" + ", ".join(bad) + ")") if bad else ""))
text = "\n".join(lines) + "\n"
open(outmd, "w").write(text)
print(text)
PY
echo "# written to $OUTMD (per-run results: $RUNS)" >&2
