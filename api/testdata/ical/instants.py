# Reads an iCalendar feed on stdin with Debian's python3-icalendar, an
# implementation independent of rota's, and prints each event's UID,
# start and end as UTC instants, one event a line.
import sys
from datetime import timezone

import icalendar

cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
for ev in cal.walk("VEVENT"):
    start = ev.decoded("DTSTART").astimezone(timezone.utc)
    end = ev.decoded("DTEND").astimezone(timezone.utc)
    print(str(ev["UID"]), start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ"), str(ev.get("TRANSP")), int(ev.get("SEQUENCE")))
