"""The SQLite store's file: the lock that keeps a second devhost off it, the checks that refuse a file devhost did
not make (having only read it), the record of whose WAL lies beside it (so a WAL of a replaced or restored file is
set aside, never applied), and noticing the file deleted, replaced or overwritten while devhost runs. What is in the
file is sqlite.py's."""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from devhost.errors import StoreError

log = logging.getLogger("devhost")
APPLICATION_ID = 0x44464448  # "DFDH": marks the file as a devhost store
WAL_HEADER_BYTES = 32  # a WAL no longer than its header holds no page to apply


def _committed_first_page(wal_path: Path) -> bytes | None:
    """The first page of a database as its WAL holds it after the WAL's last commit (None when it holds none): frames
    count while they carry the salts of the WAL's header, as SQLite reads them (its checksums are not checked)."""
    with open(wal_path, "rb") as wal:
        header = wal.read(WAL_HEADER_BYTES)
        if len(header) < WAL_HEADER_BYTES or header[:4] not in (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83"):
            return None
        page_size, salts = int.from_bytes(header[8:12], "big"), header[16:24]
        latest = committed = None
        while True:
            frame = wal.read(24)
            if len(frame) < 24 or frame[8:16] != salts:
                return committed
            if int.from_bytes(frame[:4], "big") == 1:
                latest = wal.read(page_size)
                if len(latest) < page_size:
                    return committed
            else:
                wal.seek(page_size, os.SEEK_CUR)
            if frame[4:8] != bytes(4):  # a commit frame: what came before it is committed
                committed = latest


def _leave_open(db: sqlite3.Connection) -> None:
    """Never close a connection whose file another program overwrote in place: SQLite checkpoints the WAL into the
    file when the last connection to it closes (also when Python frees it at exit), and the file there is no longer
    the one the WAL belongs to. Python 3.12 can tell SQLite not to (NO_CKPT_ON_CLOSE); before, the connection is
    kept alive until the process ends, which makes no checkpoint."""
    if hasattr(db, "setconfig"):
        db.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)  # type: ignore[attr-defined]
        db.close()
    else:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(db))


class StoreFile:
    """One store file and what lies beside it (-wal, -shm, .lock, -wal.owner), from the lock taken when devhost
    opens it to the lock released when it closes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lost: str | None = None  # why the file can no longer be used, once it was deleted, replaced or overwritten
        # (st_dev, st_ino, st_size, st_mtime_ns) of the file opened, as devhost's own last write left it
        self._identity: tuple[int, int, int, int] | None = None
        self.overwritten = False  # lost because another program wrote into the file itself (same inode)
        self._wal_owner: dict[str, Any] | None = None  # what <store>-wal.owner says, written at open
        try:  # private, as the keys file is (only the last folder: its parents may be shared ones)
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the store {self.path}: {exc.strerror}") from exc
        self._lock_existed = os.path.lexists(self.beside(".lock"))
        self._lock_file = self._take_lock()

    def prepare(self) -> bool:
        """Before SQLite opens the file: refuse one devhost may not write, set aside a WAL that is not the file's,
        and create a missing file private. True when the store is new (no file, or an empty one)."""
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if (not fresh and not os.access(self.path, os.W_OK)) or not os.access(self.path.parent, os.W_OK):
            raise StoreError(self.read_only("not writable"))
        if not fresh:
            self.examine()
        self.set_aside_foreign_wal(fresh)
        if fresh:
            try:  # private; SQLite gives the -wal and -shm it makes the mode of the file
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as exc:
                raise StoreError(f"cannot create the store {self.path}: {exc.strerror}{self.disk_hint()}") from exc
        return fresh

    def opened(self, db: sqlite3.Connection) -> None:
        """SQLite has the file open: remember it as it is now, and say whose the WAL beside it is."""
        self._identity = self._stat_identity()
        self.claim_wal(db)

    def refused(self) -> None:
        """The file could not be opened as a store: release the lock, and leave nothing of devhost's beside it."""
        if not self._lock_existed:
            with contextlib.suppress(OSError):
                os.unlink(self.beside(".lock"))
        self._lock_file.close()

    def close(self, db: sqlite3.Connection) -> None:
        """Close the connection (never one whose file another program overwrote: see _leave_open) and release the
        lock."""
        if self.overwritten:
            _leave_open(db)
        else:  # SQLite makes no checkpoint at close once the file left its path (it compares the inode there)
            db.close()
        self._lock_file.close()

    def beside(self, suffix: str) -> Path:
        """A file beside the store: SQLite's -wal and -shm, devhost's .lock and -wal.owner."""
        return self.path.with_name(self.path.name + suffix)

    def _take_lock(self) -> Any:
        try:
            lock = os.fdopen(os.open(self.beside(".lock"), os.O_RDWR | os.O_CREAT, 0o600), "r+")
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise StoreError(self.read_only(exc.strerror)) from exc
            raise StoreError(f"cannot use the store {self.path}: its lock file cannot be created ({exc.strerror}); "
                             f"pass --store to use another file") from exc
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            owner = lock.read().strip()
            lock.close()
            raise StoreError(f"the store {self.path} is in use by another devhost"
                             f"{f' (pid {owner})' if owner else ''}; stop it or pass --store to use another file")
        with contextlib.suppress(OSError):  # the pid is only a hint for the message above: a full disk may refuse it
            os.ftruncate(lock.fileno(), 0)
            os.pwrite(lock.fileno(), str(os.getpid()).encode(), 0)
        return lock

    def read_only(self, why: str) -> str:
        return (f"the store {self.path} is read-only ({why}); devhost writes every state change there: make it "
                f"writable or pass --store to use another file")

    def disk_hint(self) -> str:
        """Why the disk may refuse: ' (its disk is full)' or '' when it cannot tell."""
        with contextlib.suppress(OSError):
            disk = os.statvfs(self.path.parent)
            if disk.f_bavail * disk.f_frsize < 1 << 20:
                return " (its disk is full)"
        return ""

    def unusable(self, exc: sqlite3.DatabaseError, verb: str) -> StoreError:
        if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN")):
            return StoreError(f"cannot {verb} the store {self.path}: {exc}{self.disk_hint()}")
        return StoreError(f"{self.path} is not a usable devhost store ({exc}); "
                          f"move it away or pass --store to use another file")

    def examine(self) -> None:
        """Refuse a file that is not a devhost store, having only read it. SQLite, opened for writing, would write
        into it: the checkpoint it makes when the last connection to a WAL-mode file closes puts that file's -wal
        into it (and deletes the -wal), and it makes a -wal and -shm beside it. An immutable connection takes no
        lock and ignores the WAL: nothing is written or made."""
        app_id, tables = self._look()
        if app_id == APPLICATION_ID:
            return
        if app_id == 0 and not tables and self._wal_size() > WAL_HEADER_BYTES:
            # An older devhost marked a new store in its first transaction, which may still be in the WAL only: read
            # the first page there (SQLite, even read-only, would rebuild the -shm beside it).
            with contextlib.suppress(OSError):
                page = _committed_first_page(self.beside("-wal"))
                if page is not None and int.from_bytes(page[68:72], "big") == APPLICATION_ID:
                    return
        raise StoreError(f"{self.path} is an SQLite database that devhost did not create; "
                         f"refusing to touch it (pass --store to use another file)")

    def _look(self) -> tuple[int, set[str]]:
        """The application id and tables of the file itself (not of its WAL), read through an immutable connection."""
        try:
            with contextlib.closing(sqlite3.connect(f"file:{pathname2url(str(self.path.resolve()))}?immutable=1",
                                                    uri=True)) as look:
                app_id = look.execute("PRAGMA application_id").fetchone()[0]
                tables = {r[0] for r in look.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise self.unusable(exc, "open") from exc
        return app_id, tables

    # -- whose WAL ------------------------------------------------------------------------------
    # SQLite applies whatever <store>-wal lies beside the file when it opens it: it checks the WAL's frames against
    # the WAL's own header only, never against the file. The WAL of a store that was then replaced, restored from a
    # backup or deleted would be written into the file now there: a mix of both ("database disk image is malformed").
    # So devhost writes <store>-wal.owner at each start (the device and inode of the file and of its WAL, and the
    # store's id) and marks it when it sees the file replaced; the next start sets aside a WAL that is not the file's.
    def _wal_size(self) -> int:
        try:
            return os.stat(self.beside("-wal")).st_size
        except FileNotFoundError:
            return 0

    def set_aside_foreign_wal(self, fresh: bool) -> None:
        """Rename a -wal that belongs to another file (and its -shm) aside, never deleting it, with one log line:
        the file then opens as it is."""
        wal = self.beside("-wal")
        try:
            found = os.stat(wal)
        except FileNotFoundError:
            return
        if found.st_size <= WAL_HEADER_BYTES:
            return
        why = "there is no store file it could belong to" if fresh else self._why_not_ours(found)
        if why is None:
            return
        n = 1
        while os.path.lexists(self.beside(f"-wal.stale-{n}")) or os.path.lexists(self.beside(f"-shm.stale-{n}")):
            n += 1
        aside = self.beside(f"-wal.stale-{n}")
        try:
            os.rename(wal, aside)
            with contextlib.suppress(FileNotFoundError):
                os.rename(self.beside("-shm"), self.beside(f"-shm.stale-{n}"))
        except OSError as exc:
            raise StoreError(f"cannot open the store {self.path}: the WAL beside it is not its own ({why}) and "
                             f"cannot be set aside ({exc.strerror}); move {wal} away") from exc
        log.warning("devhost: %s is not the WAL of the store file there now (%s): set aside as %s, never applied; "
                    "the store opens as it is", wal, why, aside.name)

    def _why_not_ours(self, wal: os.stat_result) -> str | None:
        """Why the WAL beside the file belongs to another file, from the -wal.owner the last start wrote; None when
        it is the file's, or when devhost knows nothing of that WAL (another program's: SQLite's rules then)."""
        try:
            owner = json.loads(self.beside("-wal.owner").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(owner, dict) or owner.get("wal") != [wal.st_dev, wal.st_ino]:
            return None
        if owner.get("orphaned"):
            return str(owner["orphaned"])
        main = os.stat(self.path)
        if owner.get("file") != [main.st_dev, main.st_ino]:
            return "the store file was replaced after devhost wrote that WAL"
        store_id = self._store_id()
        if owner.get("store") and store_id and owner["store"] != store_id:
            return "the store file was overwritten with another store after devhost wrote that WAL"
        return None

    def _store_id(self) -> int:
        """The id devhost gave the store when it made it (user_version, in the file's own header); 0 for none. Only
        before SQLite opens the file (see _claim_wal)."""
        with contextlib.suppress(OSError), open(self.path, "rb") as file:
            header = file.read(100)
            if header.startswith(b"SQLite format 3\x00") and len(header) == 100:
                return int.from_bytes(header[60:64], "big")
        return 0

    def claim_wal(self, db: sqlite3.Connection) -> None:
        """Say which file the WAL beside it belongs to, for the next start. The store id is asked of SQLite: opening
        and closing the file here would drop the locks SQLite holds on it (POSIX locks belong to the process), and
        another program's connection closing then would checkpoint the WAL and delete it under devhost."""
        with contextlib.suppress(OSError, sqlite3.Error):
            store_id = db.execute("PRAGMA user_version").fetchone()[0]
            main, wal = os.stat(self.path), os.stat(self.beside("-wal"))
            self._wal_owner = {"file": [main.st_dev, main.st_ino], "store": store_id,
                               "wal": [wal.st_dev, wal.st_ino], "orphaned": None}
            self._write_wal_owner()

    def disown_wal(self, why: str) -> None:
        """The file was replaced: the WAL beside it is no longer its own."""
        if self._wal_owner is not None:
            self._wal_owner["orphaned"] = why
            self._write_wal_owner()

    def _write_wal_owner(self) -> None:
        owner = self.beside("-wal.owner")
        # a hint: a disk too full to hold it only costs the next start's check
        with contextlib.suppress(OSError), os.fdopen(os.open(owner, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                                                     "w") as out:
            json.dump(self._wal_owner, out)

    # -- noticing a file deleted, replaced or overwritten under devhost --------------------------
    def _stat_identity(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns

    def wrote(self) -> None:
        """devhost's own connection may just have written the file (a checkpoint, also the one a COMMIT makes when
        the WAL is long): what check() compares with from now on."""
        if self.lost is None and self._identity is not None:
            with contextlib.suppress(OSError):
                identity = self._stat_identity()
                if identity is not None and identity[:2] == self._identity[:2]:
                    self._identity = identity

    def check(self) -> bool:
        """False once the store file was deleted, replaced or overwritten by another program while devhost ran
        (noticed here: at every commit, by the dispatcher's periodic scan, at close): writes into a file nobody can
        open again would be lost, and writes into the file there now would corrupt it."""
        if self.lost is None and self._identity is not None:
            try:
                identity = self._stat_identity()
            except OSError:
                return True  # cannot tell (e.g. permissions changed): the commit itself will say
            if identity != self._identity:
                if identity is None:
                    what = "was deleted"
                elif identity[:2] != self._identity[:2]:
                    what = "was replaced by another file"
                else:
                    what, self.overwritten = "was overwritten by another program", True
                self.lost = (f"the store file {self.path} {what} while devhost was running; devhost stopped taking "
                             f"work and writes nothing into the file there now: restart devhost")
                log.error("devhost: %s", self.lost)
                self.disown_wal(f"the store file {what} while devhost was running")
        return self.lost is None

