"""A run directory held by one process at a time (an flock'd lock file), and the record of how it was started."""
from __future__ import annotations

import datetime
import fcntl
import os
import shlex
import sys
from pathlib import Path

LOCK_FILE = "run.lock"


class RunDirectoryLock:
    """Exclusive lock on RUN/run.lock for the life of a run; a second writer gets a ValueError naming the holder.

    The lock is an advisory `fcntl.flock`, released by the kernel when the process dies, so a killed
    run never leaves a stale lock behind; the file holds the holder's pid and host for the message.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self.handle = None

    def __enter__(self) -> RunDirectoryLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ValueError(f"run directory {self.path.parent} is in use by {holder}; wait for it to finish or "
                             "choose another train.run_dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {os.uname().nodename}\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def check_run_dir(run_dir: Path) -> Path:
    """`run_dir` as a Path, refused when it exists as something other than a directory."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"train.run_dir {run_dir} exists and is not a directory")
    return run_dir


def record_run(run_dir: Path, config_yaml: str, world_size: int, resume: Path | None) -> None:
    """Write the resolved config and append the command line to the run directory."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(config_yaml)
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    command = shlex.join(sys.argv)
    with (run_dir / "command.txt").open("a") as handle:
        handle.write(f"{stamp} cwd={os.getcwd()} world_size={world_size} "
                     f"resume={resume or '-'}\n  {command}\n")
