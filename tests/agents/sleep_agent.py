"""Scripted agent that never finishes: writes "<pid> <pgid> <child pid>" to argv[1], then sleeps.

It starts a child in its own process group (as a real agent's tools would), and with
`--ignore-term` ignores SIGTERM, so only the SIGKILL escalation stops it.
"""

import os
import signal
import subprocess
import sys
import time

out = sys.argv[1]
if "--ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("working...", flush=True)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
tmp = out + ".tmp"
with open(tmp, "w") as f:
    f.write(f"{os.getpid()} {os.getpgid(0)} {child.pid}")
os.replace(tmp, out)
while True:
    time.sleep(1)
