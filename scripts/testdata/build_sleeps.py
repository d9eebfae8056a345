"""Error case: build() never returns. It first writes its process id to the file named by
MLCALYX_TEST_PIDFILE (if set), so a test can watch the export child."""
import os
import time


def build():
    pidfile = os.environ.get("MLCALYX_TEST_PIDFILE")
    if pidfile:
        with open(pidfile + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(pidfile + ".tmp", pidfile)
    while True:
        time.sleep(3600)
