//! A full disk, for real: the database lives on a small tmpfs this test mounts (it needs
//! root), a scheduler runs in a child process, and the test fills the filesystem while
//! outcomes are being written. While the disk is full the dispatcher backs off instead
//! of spinning and logs the failure once; once space returns, the backlog is written,
//! the write-ahead log gives back the space it grew into (so another program's insert
//! succeeds), every run completes, and shutdown is prompt.

#![cfg(target_os = "linux")]

mod common;

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use common::{
    child::{Hold, Settings, log_lines, starts},
    wait_for,
};
use runloom::{
    Clock, RunStatus, SystemClock,
    store::{NewRun, Store, StoreOptions},
};

#[test]
#[ignore = "started as a child process by the disk-full test"]
fn child() {
    common::child::run_child();
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        .unwrap_or(false)
}

/// A tmpfs of `size` mounted on a fresh folder, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting a tmpfs failed ({status})");
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the filesystem holding `dir` with one file until writes fail; returns it.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while f.write_all(&chunk).is_ok() {}
    // The last partial chunk: byte by byte, so not even a page is left.
    while f.write_all(&[0]).is_ok() {}
    let _ = f.sync_all();
    path
}

/// CPU time (clock ticks) of the dispatcher thread of process `pid`.
fn dispatcher_ticks(pid: u32) -> u64 {
    let mut total = 0;
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    for entry in tasks {
        let stat = std::fs::read_to_string(entry.unwrap().path().join("stat")).unwrap_or_default();
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !stat[open + 1..close].starts_with("runloom-disp") {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        total += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    total
}

fn count(store: &Store, status: RunStatus) -> u64 {
    store
        .read(|tx| tx.count_runs_by_status())
        .unwrap()
        .get(status)
}

#[test]
fn a_full_disk_backs_off_logs_once_and_the_backlog_is_written_once_space_returns() {
    if !is_root() {
        panic!(
            "this test mounts a 4 MiB tmpfs and needs root: run the suite as root (CI does), \
             or skip it with `--skip a_full_disk`"
        );
    }
    let disk = SmallDisk::mount("4m");
    let outside = tempfile::tempdir().unwrap();
    let db = disk.path().join("jobs.db");
    let store = Store::open(StoreOptions::file(&db)).unwrap();
    let n = 300;
    let now = SystemClock.now();
    let payload = serde_json::to_string(&Hold {
        ms: 5,
        effect: false,
        panic_in_transaction: false,
    })
    .unwrap();
    store
        .write(|tx| {
            let runs: Vec<NewRun> = (0..n)
                .map(|_| NewRun::new("hold", payload.clone(), now))
                .collect();
            tx.insert_runs(&runs, now).map(|_| ())
        })
        .unwrap();

    // Leases long enough that none runs out while the disk is full: what is measured is
    // the backlog being written, not runs being taken back.
    let mut settings = Settings::scheduler(outside.path(), &db, "full");
    settings.lease_ms = 30_000;
    settings.heartbeat_ms = 200;
    settings.stale_ms = 60_000;
    settings.threads = 2;
    let log_file = outside.path().join("child.log");
    settings.log_file = Some(log_file.clone());
    let mut child = settings.spawn();
    assert!(wait_for(Duration::from_secs(30), || count(
        &store,
        RunStatus::Completed
    ) >= 20));

    // The disk fills up while outcomes are being written.
    let filler = fill(disk.path());
    let failing = |l: &String| l.contains("writing outcomes and claims failed");
    assert!(
        wait_for(Duration::from_secs(20), || {
            log_lines(&log_file, "ERROR").iter().any(failing)
        }),
        "the dispatcher never failed: {:?}",
        std::fs::read_to_string(&log_file)
    );
    let done_while_full = count(&store, RunStatus::Completed);
    assert!(
        done_while_full < n,
        "every run completed before the disk was full"
    );

    // It backs off: no spinning, no log line per try.
    let lines_before = std::fs::read_to_string(&log_file).unwrap().lines().count();
    let ticks_before = dispatcher_ticks(child.id());
    std::thread::sleep(Duration::from_secs(2)); // measuring an interval: nothing to wait for
    let ticks = dispatcher_ticks(child.id()) - ticks_before;
    let lines = std::fs::read_to_string(&log_file).unwrap().lines().count() - lines_before;
    // A spinning dispatcher takes about 200 ticks in 2 s and logs thousands of lines.
    assert!(ticks < 60, "the dispatcher spun: {ticks} ticks in 2 s");
    assert!(
        lines <= 10,
        "{lines} log lines in 2 s of full disk: {:?}",
        std::fs::read_to_string(&log_file)
    );

    // Some space comes back (1.9 MB, as an operator deleting a file would free): the
    // backlog is written and every run completes.
    let filler_len = std::fs::metadata(&filler).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap()
        .set_len(filler_len.saturating_sub(1_900_000))
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(60), || count(
            &store,
            RunStatus::Completed
        ) == n),
        "{} of {n} completed after space returned; log: {:?}",
        count(&store, RunStatus::Completed),
        std::fs::read_to_string(&log_file)
    );
    let recovered = log_lines(&log_file, "INFO");
    assert!(
        recovered.iter().any(|l| l.contains("works again after")),
        "{recovered:?}"
    );
    // The log gave its space back: another program on the same disk can write again.
    assert!(wait_for(Duration::from_secs(20), || {
        let host = rusqlite::Connection::open(disk.path().join("host.db")).unwrap();
        host.execute_batch(
            "CREATE TABLE IF NOT EXISTS notes (body BLOB);
             INSERT INTO notes VALUES (zeroblob(262144));",
        )
        .is_ok()
    }));

    // Nothing was lost or run twice, and shutdown is prompt.
    std::fs::write(&settings.stop, b"").unwrap();
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "the child did not stop"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
    let shutdown: Vec<String> = log_lines(&log_file, "INFO")
        .into_iter()
        .filter(|l| l.contains("child shutdown"))
        .collect();
    assert!(
        shutdown.len() == 1 && shutdown[0].contains("Ok("),
        "{shutdown:?}"
    );
    let executions = starts(&settings.log);
    assert_eq!(count(&store, RunStatus::Completed), n);
    assert!(executions.len() as u64 >= n);
    assert!(executions.iter().all(|s| !s.on_finished_run));
}
