//! Hosts as operating-system processes, for the PostgreSQL figures that the issue states
//! "across processes": each host is a child process of the measuring binary (the same
//! executable, started with [`HOST_ARG`]) running one scheduler of its own, with its own
//! pool, worker row and listener, as separate machines would. A child talks to its
//! parent in lines on stdout:
//!
//! * `ready` once its scheduler runs;
//! * `probe` when a [`crate::ours::Probe`] starts (the parent timestamps the line as it
//!   reads it, so a pickup measured this way includes one pipe hop: it can only look
//!   slower than it is);
//! * `completed N` whenever its count of completed runs grew (coalesced).
//!
//! The parent closing the child's stdin asks it to shut down.

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc::{Receiver, Sender, channel},
    time::{Duration, Instant},
};

use crate::{Result, ours::Harness};

/// The first argument that makes the measuring binary a host:
/// `EXE --pg-host URL THREADS`.
pub const HOST_ARG: &str = "--pg-host";

/// How long the parent waits for any one thing a host reports before calling it stuck.
const DEADLINE: Duration = Duration::from_secs(600);

/// What a host said, and when the parent read it.
#[derive(Debug)]
enum Said {
    Ready,
    Probe,
    Completed(usize),
    /// The host's stdout closed: it exited.
    Gone,
}

/// Running host processes on one database.
#[derive(Debug)]
pub struct Hosts {
    children: Vec<(Child, Option<ChildStdin>)>,
    said: Receiver<(usize, Said, Instant)>,
    /// Each host's latest completion count.
    completed: Vec<usize>,
}

impl Hosts {
    /// Starts `hosts` processes of `exe` with `threads` worker threads each on the
    /// database at `url` (migrated already) and waits until each runs.
    ///
    /// # Errors
    /// A process that could not start or did not get ready.
    pub fn start(exe: &Path, url: &str, hosts: usize, threads: usize) -> Result<Hosts> {
        let (tx, said) = channel();
        let mut out = Hosts {
            children: Vec::with_capacity(hosts),
            said,
            completed: vec![0; hosts],
        };
        for i in 0..hosts {
            let mut child = Command::new(exe)
                .args([HOST_ARG, url, &threads.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()?;
            let stdout = child.stdout.take().ok_or("a host without stdout")?;
            let stdin = child.stdin.take();
            out.children.push((child, stdin));
            let tx = tx.clone();
            std::thread::spawn(move || read_lines(i, stdout, &tx));
        }
        let mut ready = 0;
        while ready < hosts {
            match out.next()? {
                (_, Said::Ready, _) => ready += 1,
                (i, Said::Gone, _) => return Err(format!("host {i} exited while starting").into()),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The next thing any host says (a host that exits is an error unless asked to).
    fn next(&mut self) -> Result<(usize, Said, Instant)> {
        let got = self
            .said
            .recv_timeout(DEADLINE)
            .map_err(|_| "no host said anything for ten minutes")?;
        if let (i, Said::Completed(n), _) = &got {
            self.completed[*i] = (*n).max(self.completed[*i]);
        }
        Ok(got)
    }

    /// Completions of every host together.
    #[must_use]
    pub fn completed(&self) -> usize {
        self.completed.iter().sum()
    }

    /// Waits until the hosts together completed `n` runs; returns the instant the
    /// report of the last one was read.
    ///
    /// # Errors
    /// A host that exited, or no progress for ten minutes.
    pub fn wait_completed(&mut self, n: usize) -> Result<Instant> {
        let mut at = Instant::now();
        while self.completed() < n {
            match self.next()? {
                (i, Said::Gone, _) => return Err(format!("host {i} exited").into()),
                (_, _, when) => at = when,
            }
        }
        Ok(at)
    }

    /// Waits for the next probe to start on any host; returns when its line was read.
    ///
    /// # Errors
    /// A host that exited, or no probe for ten minutes.
    pub fn wait_probe(&mut self) -> Result<Instant> {
        loop {
            match self.next()? {
                (_, Said::Probe, when) => return Ok(when),
                (i, Said::Gone, _) => return Err(format!("host {i} exited").into()),
                _ => {}
            }
        }
    }

    /// Asks every host to shut down and waits for them.
    ///
    /// # Errors
    /// A host that failed.
    pub fn stop(mut self) -> Result<()> {
        for (_, stdin) in &mut self.children {
            drop(stdin.take());
        }
        for (i, (child, _)) in self.children.iter_mut().enumerate() {
            let status = child.wait()?;
            if !status.success() {
                return Err(format!("host {i} ended with {status}").into());
            }
        }
        self.children.clear();
        Ok(())
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        // Not stopped (a measurement failed): no host may outlive the measurement.
        for (child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_lines(i: usize, stdout: impl std::io::Read, tx: &Sender<(usize, Said, Instant)>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let when = Instant::now();
        let said = match line.split_once(' ') {
            None if line == "ready" => Said::Ready,
            None if line == "probe" => Said::Probe,
            Some(("completed", n)) => match n.parse() {
                Ok(n) => Said::Completed(n),
                Err(_) => continue,
            },
            _ => continue,
        };
        if tx.send((i, said, when)).is_err() {
            return;
        }
    }
    let _ = tx.send((i, Said::Gone, Instant::now()));
}

/// The body of a host process (`args` after [`HOST_ARG`]: the database URL and the
/// number of worker threads): runs a scheduler with the bench's job types, reports as
/// the module says, and shuts down when stdin closes.
///
/// # Errors
/// Bad arguments; scheduler errors.
pub fn host_main(args: &[String]) -> Result<()> {
    let [url, threads] = args else {
        return Err(format!("usage: {HOST_ARG} URL THREADS").into());
    };
    let threads: usize = threads.parse()?;
    let h = Harness::start_postgres(url, 1, threads)?
        .pop()
        .ok_or("no scheduler")?;
    let (stop_tx, stop) = channel::<()>();
    std::thread::spawn(move || {
        // EOF (or an error) on stdin: the parent wants the host to end.
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        drop(stop_tx);
    });
    std::thread::spawn(|| {
        while let Some(_started) = crate::ours::probe_started(Duration::from_secs(3_600)) {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "probe").and_then(|()| out.flush()).is_err() {
                return;
            }
        }
    });
    say("ready")?;
    let mut seen = 0;
    // Until stdin closes (the sender is dropped; nothing is ever sent).
    while let Err(std::sync::mpsc::TryRecvError::Empty) = stop.try_recv() {
        let now = h.completions_beyond(seen, Duration::from_millis(20));
        if now > seen {
            seen = now;
            say(&format!("completed {seen}"))?;
        }
    }
    h.stop()?;
    Ok(())
}

fn say(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
