# Persistent Event log (STD-LOG-9, -10, -20 to -22): LPA and PELS in
# Identify, `nvme persistent-event-log` establishes a reporting context,
# reads and decodes the header and the events (the sanitize, format-free
# events of this boot: power-on, set feature, sanitize start/completion),
# the snapshot holds while the context is established, and is released.
must nvme id-ctrl "$CTRL" || exit 1
eq $(( ($(field lpa) >> 4) & 1 )) 1 "LPA: Persistent Event log"
ge $(( $(field pels) )) 80 "PELS (64 KiB units): 5 MiB or more (STD-LOG-22)"

must nvme persistent-event-log "$CTRL" --action=1 || exit 1
expect 'Establishing Persistent Event Log Context' "action 1"
run nvme persistent-event-log "$CTRL" --action=1
expect_i 'SEQ_ERROR|Sequence Error' "a second context"
must nvme persistent-event-log "$CTRL" --action=0 || exit 1
eq "$(sed -n 's/^Log Identifier: *//p' "$OUT")" 13 "Log Identifier"
eq "$(sed -n 's/^Serial Number (SN): *//p' "$OUT" | sed 's/ *$//')" "$SERIAL" "serial number"
eq "$(sed -n 's/^Model Number (MN): *//p' "$OUT" | sed 's/ *$//')" "$MODEL" "model number"
expect '^Supported Events Bitmap' "the header"
expect 'Support .*\(0xd\)' "Thermal Excursion supported (STD-LOG-10)"
n=$(sed -n 's/^Total Number of Events: *//p' "$OUT")
ge "$n" 4 "events recorded"
for t in 0x4 0xb 0x9 0xa; do
  expect "^Event Type: .*\\($t\\)" "event type $t"
done
# Newest first (STD-LOG-20): sanitize completion before its start.
first_a=$(grep -n '^Event Type: .*(0xa)' "$OUT" | head -n1 | cut -d: -f1)
first_9=$(grep -n '^Event Type: .*(0x9)' "$OUT" | head -n1 | cut -d: -f1)
[ "$first_a" -lt "$first_9" ] || fail "sanitize completion is not reported before its start"
gen=$(sed -n 's/^Generation Number: *//p' "$OUT")

# A new event during the context is kept for the next one (STD-LOG-21).
must nvme set-feature "$CTRL" --feature-id=4 --value=0x160
must nvme persistent-event-log "$CTRL" --action=0
eq "$(sed -n 's/^Total Number of Events: *//p' "$OUT")" "$n" "events within the context"
must nvme persistent-event-log "$CTRL" --action=2
expect 'Releasing Persistent Event Log Context' "action 2"
run nvme persistent-event-log "$CTRL" --action=0
expect_i 'SEQ_ERROR|Sequence Error' "a read without a context"
must nvme persistent-event-log "$CTRL" --action=1
must nvme persistent-event-log "$CTRL" --action=0
eq "$(sed -n 's/^Total Number of Events: *//p' "$OUT")" $(( n + 1 )) "events in the next context"
eq "$(sed -n 's/^Generation Number: *//p' "$OUT")" $(( gen + 1 )) "generation number"
must nvme persistent-event-log "$CTRL" --action=2
# nvme-cli's default action reads the current log.
must nvme persistent-event-log "$CTRL"
expect '^Total Number of Events' "the default action"
