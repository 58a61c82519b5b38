#!/usr/bin/env python3
# Issue 11 (fourth pass): what one durable commit costs on this disk, apart from HekiActors.
# Usage: benchmarks/scripts/sqlite-commit-latency.py [COMMITS] [DIR]
#   Times COMMITS (default 300) raw 4 KiB append+fsync calls, then SQLite commits in WAL mode on the journal's schema
#   (Akka.Persistence.Sql's journal table and indexes) with 1, 10 and 300 rows of 160 bytes each, at synchronous = FULL
#   (the journal's level: the WAL is fsynced at every commit) and NORMAL (fsynced at checkpoints only), in DIR (default
#   /tmp). Prints p50/p90/p99/max in ms. Run it alone, then beside `heki simulate` to see the disk under the run's load.
import os, sys, time, sqlite3, tempfile
commits = int(sys.argv[1]) if len(sys.argv) > 1 else 300
work = tempfile.mkdtemp(prefix='heki-commit-', dir=sys.argv[2] if len(sys.argv) > 2 else '/tmp')

def line(label, ms):
    ms = sorted(ms); n = len(ms)
    print(f'{label:34} n {n:4}  p50 {ms[n // 2]:7.2f}  p90 {ms[int(n * .9)]:7.2f}  p99 {ms[min(n - 1, int(n * .99))]:7.2f}  max {ms[-1]:7.2f} ms')

raw = os.path.join(work, 'raw.bin'); fd = os.open(raw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC); block = os.urandom(4096); ms = []
for _ in range(commits):
    t = time.perf_counter(); os.write(fd, block); os.fsync(fd); ms.append((time.perf_counter() - t) * 1000)
os.close(fd); os.unlink(raw); line('raw 4 KiB append + fsync', ms)

schema = '''CREATE TABLE journal (ordering INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL, deleted Bit NOT NULL,
  persistence_id NVarChar(255) NOT NULL, sequence_number INTEGER NOT NULL, message VarBinary NOT NULL, manifest NVarChar(500) NULL,
  identifier INTEGER NULL, writer_uuid NVarChar(128) NULL);
CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number);
CREATE INDEX journal_created_idx ON journal (created);
CREATE INDEX journal_sequence_number_idx ON journal (sequence_number);'''
insert = ('INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) '
          'VALUES (?, 0, ?, ?, ?, ?, 1, ?)')
for synchronous in ['FULL', 'NORMAL']:
    for rows in [1, 10, 300]:
        path = os.path.join(work, f'{synchronous}-{rows}.db')
        db = sqlite3.connect(path, isolation_level=None)
        db.execute('PRAGMA journal_mode = WAL'); db.execute(f'PRAGMA synchronous = {synchronous}'); db.executescript(schema)
        seq = [0] * 300; ms = []
        for i in range(commits if rows < 300 else max(30, commits // 10)):
            t = time.perf_counter(); db.execute('BEGIN')
            for r in range(rows):
                vm = (i * rows + r) % 300; seq[vm] += 1
                db.execute(insert, (time.time_ns() // 100, f'vm-{vm}', seq[vm], os.urandom(160), 'heki.PermissionsChangedEvent.v1', 'w' * 32))
            db.execute('COMMIT'); ms.append((time.perf_counter() - t) * 1000)
        db.close()
        for suffix in ['', '-wal', '-shm']:
            if os.path.exists(path + suffix): os.unlink(path + suffix)
        line(f'SQLite WAL {synchronous:6} {rows:3} rows/commit', ms)
os.rmdir(work)
