"""A member of the test stack `forky`: `db` forks two children (like a postmaster's backends),
`coord` listens, `api` answers HTTP without setting any region header."""

import json
import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

role, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def listen_forever() -> None:
    server = socket.create_server((address, port))
    while True:
        conn, _ = server.accept()
        conn.close()


if role == "db":
    with open(sys.argv[4]) as config:  # the rendered config must exist before the start
        assert "listen =" in config.read()
    for _ in range(2):
        if os.fork() == 0:  # a child that outlives nothing: it must die with its group
            while True:
                time.sleep(1)
    listen_forever()
elif role == "coord":
    listen_forever()
else:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"db_hosts": os.environ["DB_HOSTS"],
                               "region": os.environ["REGION"]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer((address, port), Handler).serve_forever()
