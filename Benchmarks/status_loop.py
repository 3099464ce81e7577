"""Asks a causewayd for `status` over its control socket, as fast as it answers or at most
RATE times a second, until killed; writes how many answers it got to COUNT_FILE once a
second. One connection serves requests until the daemon closes it (a connection's budget),
then another is opened: the cost measured is the daemon's, not a process started per
request.

  status_loop.py SOCKET COUNT_FILE [RATE]
"""
import socket
import sys
import time

path, count_file = sys.argv[1], sys.argv[2]
interval = 1.0 / float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
request = b'{"version":1,"request":"status"}\n'
answered = 0
last_written = time.monotonic()
while True:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(path)
            reader = connection.makefile("rb")
            while True:
                started = time.monotonic()
                connection.sendall(request)
                if not reader.readline():
                    break
                answered += 1
                if started - last_written >= 1:
                    with open(count_file, "w") as out:
                        out.write(str(answered))
                    last_written = started
                if interval:
                    time.sleep(max(0.0, interval - (time.monotonic() - started)))
    except OSError:
        time.sleep(0.05)
