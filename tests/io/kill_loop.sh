#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kill loop: a program that saves a .pare file over and over is killed with SIGKILL at random
# moments. After every kill the last complete file must load with its checksums verified and hold
# the values of its seed, and the folder must hold no temporary file (docs/reliability.md).
#
# usage: kill_loop.sh <kill_loop_saver> <work dir> <mode> [kills] [MiB]
#   mode tmpfile        the default path (O_TMPFILE): no temporary may ever be left
#   mode named          the named-temporary path, dead writers' files swept at once
#                       (--stale-after 0): at most the one just killed may be left, none after
#                       the next complete save
#   mode named-default  the named path with the default age threshold (30 s): what a crash loop
#                       leaves on a file system without O_TMPFILE (a measurement)
#   mode named-nosweep  the named path with the sweep held off: what each kill cost before the
#                       sweep existed (a measurement)
# The measurements check the file after every kill like the other modes, but any number of
# temporaries is allowed.
set -u

saver=$1
work=$2
mode=$3
kills=${4:-20}
mib=${5:-64}
case $mode in
  tmpfile) opts=() ;;
  named) opts=(--named --stale-after 0) ;;
  named-default) opts=(--named) ;;
  named-nosweep) opts=(--named --stale-after 1000000000) ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac

data=$work/data
out=$data/model.pare
rm -rf "$work"
mkdir -p "$data"
fail() {
  echo "FAIL: $*"
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# What the folder holds besides the target: temporaries of the target, and anything else.
count_left() {
  temps=0
  temp_bytes=0
  others=0
  local f
  for f in "$data"/* "$data"/.[!.]*; do
    [[ -e $f || -L $f ]] || continue
    case ${f##*/} in
      model.pare) ;;
      model.pare.tmp-*)
        temps=$((temps + 1))
        temp_bytes=$((temp_bytes + $(stat -c %s "$f")))
        ;;
      *) others=$((others + 1)) ;;
    esac
  done
}

# The tmpfile mode tests the O_TMPFILE path, which a build folder on (say) NFS does not have.
if [[ $mode == tmpfile ]] && ! "$saver" probe "$data"; then
  echo "SKIP: the named path is what runs here; the named modes test it"
  exit 77
fi

t0=$(now_ms)
"$saver" save "$out" "$mib" 1 "${opts[@]}" || fail "the first save failed"
save_ms=$(($(now_ms) - t0))
"$saver" verify "$out" > /dev/null || fail "the first save does not verify"
# Kill moments spread over two saves' time: before the first save of a process is complete
# (its previous file must survive) and after some complete (the newer one must).
max_delay=$((2 * save_ms + 50))
echo "mode $mode: one save of $mib MiB takes $save_ms ms; killing $kills times within 0..$max_delay ms"

seeds=()
idle_runs=0
max_temps=0
for ((i = 1; i <= kills; i++)); do
  "$saver" loop "$out" "$mib" "${opts[@]}" > "$work/run.log" 2>&1 &
  pid=$!
  delay=$(((RANDOM * 32768 + RANDOM) % max_delay))
  sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
  kill -9 "$pid" 2> /dev/null
  wait "$pid" 2> /dev/null
  cat "$work/run.log" >> "$work/saves.log"
  # Saves slow down when the disk gets busy (other jobs, or the write-back of killed saves'
  # data): widen the window when three runs in a row completed nothing.
  if grep -q '^saved' "$work/run.log"; then
    idle_runs=0
  elif ((++idle_runs == 3)); then
    max_delay=$((max_delay * 2))
    idle_runs=0
    echo "no save completed in 3 runs: killing within 0..$max_delay ms from now on"
  fi
  seed=$("$saver" verify "$out") || fail "after kill $i (at $delay ms) $out does not verify"
  seeds+=("$seed")
  count_left
  ((temps > max_temps)) && max_temps=$temps
  echo "kill $i at $delay ms: $seed; $temps temporaries ($temp_bytes bytes)"
  ((others == 0)) || fail "after kill $i the folder holds files that are neither the target nor its temporaries"
  case $mode in
    tmpfile) ((temps == 0)) || fail "kill $i left $temps temporaries ($temp_bytes bytes)" ;;
    named) ((temps <= 1)) || fail "after kill $i, $temps temporaries: the sweep missed dead writers' files" ;;
  esac
done

completed=$(grep -c '^saved' "$work/saves.log")
distinct=$(printf '%s\n' "${seeds[@]}" | sort -u | wc -l)
count_left
echo "after $kills kills: $completed saves completed in the loop, $distinct distinct files seen," \
  "$temps temporaries left ($temp_bytes bytes; $(du -sb "$data" | cut -f1) bytes in the folder), most at once $max_temps"
# Without a save completing now and then the loop would only show that an untouched file stays.
((distinct >= 2)) || fail "the file was never replaced between kills; the kills came too early"

if [[ $mode == named ]]; then
  "$saver" save "$out" "$mib" 2 "${opts[@]}" || fail "the final save failed"
  count_left
  ((temps == 0)) || fail "a complete save left $temps temporaries of dead writers"
  echo "a final complete save removed what the last kill left"
fi
rm -rf "$data"
exit 0
