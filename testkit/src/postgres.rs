//! A throwaway PostgreSQL cluster for the tests and benches, started from the installed
//! server binaries: one per test binary, with its data and its socket in a temporary folder,
//! no TCP listener, and a fresh database per test. A test that restarts its server, or
//! reaches it from other network namespaces, starts a [`Server`] of its own.
//!
//! The server runs as an unprivileged user (`postgres`) when the tests run as root, since
//! PostgreSQL refuses to run as root. It is started through `setpriv --pdeathsig`, from a
//! thread that lives as long as the test binary, so the server is told to stop (fast
//! shutdown) the moment the test process ends, however it ends; folders left by dead
//! test processes are removed by the next start.
//!
//! Where no server binaries are found the tests fail with a message naming the package;
//! `RUNLOOM_SKIP_POSTGRES=1` skips them instead.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

/// The environment variable that skips the PostgreSQL tests.
pub const SKIP_VAR: &str = "RUNLOOM_SKIP_POSTGRES";
/// Where the server binaries are looked for first (a folder holding `initdb`).
pub const BIN_VAR: &str = "RUNLOOM_PG_BIN";

/// The cluster of this test binary.
#[derive(Debug)]
pub struct Cluster {
    socket_dir: PathBuf,
}

impl Cluster {
    /// A connection string for `database` as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "host={} port=5432 user=postgres dbname={database} connect_timeout=10",
            self.socket_dir.display()
        )
    }

    /// A connection to the maintenance database, for creating and dropping databases.
    pub fn admin_client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("the test cluster accepts connections")
    }
}

/// A database of its own for one test, dropped (with its connections) when the value is.
#[derive(Debug)]
pub struct PgDb {
    /// Its connection string.
    pub url: String,
    name: String,
}

impl PgDb {
    /// A connection of the test's own.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("the test database connects")
    }

    /// The database as a `postgres://` URL (the CLI's form): the socket folder goes
    /// percent-encoded in the host part.
    pub fn uri(&self) -> String {
        let field = |key: &str| {
            self.url
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .expect("the test URL names its host and database")
                .to_owned()
        };
        let host = field("host").replace('/', "%2F");
        format!("postgres://postgres@{host}:5432/{}", field("dbname"))
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Some(c) = CLUSTER.get() {
            let _ = c.admin_client().batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// A fresh, empty database on this binary's cluster, or `None` when the PostgreSQL tests
/// are skipped by [`SKIP_VAR`].
pub fn fresh_db() -> Option<PgDb> {
    if std::env::var_os(SKIP_VAR).is_some_and(|v| !v.is_empty() && v != "0") {
        eprintln!("{SKIP_VAR} is set: skipping a PostgreSQL test");
        return None;
    }
    static N: AtomicU32 = AtomicU32::new(0);
    let cluster = CLUSTER.get_or_init(start);
    let name = format!(
        "t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    cluster
        .admin_client()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("a test database is created");
    Some(PgDb {
        url: cluster.url(&name),
        name,
    })
}

/// True when server binaries are installed (and the PostgreSQL tests not skipped):
/// for callers that measure PostgreSQL only where they can (the benches).
#[must_use]
pub fn server_binaries_found() -> bool {
    !std::env::var_os(SKIP_VAR).is_some_and(|v| !v.is_empty() && v != "0")
        && find_server_binaries().is_some()
}

fn find_server_binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(BIN_VAR) {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn server_binaries() -> PathBuf {
    find_server_binaries().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries (initdb, postgres) under /usr/lib/postgresql/*/bin: \
             install the Debian package `postgresql` (e.g. `apt-get install postgresql-15`), \
             point {BIN_VAR} at the folder holding them, or set {SKIP_VAR}=1 to skip the \
             PostgreSQL tests"
        )
    })
}

/// `id -u NAME` and `id -g NAME`.
fn ids_of(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, user])
            .output()
            .expect("`id` runs");
        assert!(
            out.status.success(),
            "the tests run as root, and PostgreSQL refuses to: they need the unprivileged \
             user `{user}` to run the server (it comes with the `postgresql` package)"
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a numeric id")
    };
    (id("-u"), id("-g"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `setpriv` arguments that run the server as `postgres` when we are root, and stop it
/// when this process ends.
fn as_server_user(program: &Path, owner: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--pdeathsig", "INT"]);
    if let Some((uid, gid)) = owner {
        cmd.args([
            format!("--reuid={uid}"),
            format!("--regid={gid}"),
            "--clear-groups".to_owned(),
        ]);
    }
    cmd.arg(program);
    cmd
}

/// Removes the folders of test processes that are gone.
fn sweep(base: &Path) {
    for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("runloom-pg-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh data folder (initialised, owned by the server's user) in a folder of this
/// process's, with the server binaries and the user to run them as.
struct DataDir {
    bin: PathBuf,
    owner: Option<(u32, u32)>,
    dir: PathBuf,
}

fn init_data() -> DataDir {
    let bin = server_binaries();
    let owner = is_root().then(|| ids_of("postgres"));
    let base = std::env::temp_dir();
    sweep(&base);
    let dir = tempfile::Builder::new()
        .prefix(&format!("runloom-pg-{}-", std::process::id()))
        .tempdir_in(&base)
        .expect("a folder for the cluster")
        .keep();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("the folder is chowned");
    }
    let data = dir.join("data");
    let init = as_server_user(&bin.join("initdb"), owner)
        .args(["-D"])
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .stdout(Stdio::null())
        .output()
        .expect("initdb runs");
    assert!(
        init.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    DataDir { bin, owner, dir }
}

/// Starts the server of `data` listening on the socket folder and on `listen` (TCP
/// addresses, none for socket only) and returns its pid; a message on `exited` when it
/// ends. The spawning thread lives as long as the server: the server's parent-death
/// signal follows the thread that spawned it, not the process.
fn spawn_server(
    data: &DataDir,
    listen: &str,
    durable: bool,
    exited: std::sync::mpsc::Sender<()>,
) -> u32 {
    let log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(data.dir.join("server.log"))
        .expect("a server log");
    let mut server = as_server_user(&data.bin.join("postgres"), data.owner);
    server
        .arg("-D")
        .arg(data.dir.join("data"))
        .arg("-k")
        .arg(&data.dir)
        .args([
            "-c",
            &format!("listen_addresses={listen}"),
            "-c",
            "port=5432",
            "-c",
            "max_connections=300",
        ]);
    if !durable {
        // A throwaway cluster: durability is not what the tests check.
        server.args(["-c", "fsync=off", "-c", "full_page_writes=off"]);
    }
    server
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || match server.spawn() {
        Ok(mut child) => {
            let _ = tx.send(Ok(child.id()));
            let status = child.wait();
            eprintln!("a test PostgreSQL server exited: {status:?}");
            let _ = exited.send(());
        }
        Err(e) => {
            let _ = tx.send(Err(e));
        }
    });
    rx.recv()
        .expect("the server thread answers")
        .expect("the server starts")
}

/// Waits until the server on `socket_dir` accepts connections.
fn await_server(socket_dir: &Path) {
    let url = format!(
        "host={} port=5432 user=postgres dbname=postgres connect_timeout=10",
        socket_dir.display()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match postgres::Client::connect(&url, postgres::NoTls) {
            Ok(_) => return,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                let log =
                    std::fs::read_to_string(socket_dir.join("server.log")).unwrap_or_default();
                panic!("the test PostgreSQL server did not accept connections: {e}\n{log}");
            }
        }
    }
}

fn start() -> Cluster {
    let data = init_data();
    // Nobody waits for this server to end: it lives as long as the test binary.
    let (exited, _) = std::sync::mpsc::channel();
    spawn_server(&data, "", false, exited);
    await_server(&data.dir);
    Cluster {
        socket_dir: data.dir,
    }
}

/// A server of one test's own, which the test stops and starts again (a restart under
/// load) and may open to TCP on given addresses (hosts in network namespaces).
pub struct Server {
    data: DataDir,
    listen: String,
    durable: bool,
    pid: Option<u32>,
    exited: std::sync::mpsc::Receiver<()>,
    exited_tx: std::sync::mpsc::Sender<()>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("socket_dir", &self.data.dir)
            .field("listen", &self.listen)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// An initialised cluster, started: listening on its socket and on the TCP
    /// addresses `listen`, and trusting connections from `subnet` (CIDR) if given.
    /// `None` when the PostgreSQL tests are skipped.
    pub fn start(listen: &[&str], subnet: Option<&str>) -> Option<Server> {
        Self::start_with(listen, subnet, false)
    }

    /// [`Server::start`], with the server's default durability when `durable` (every
    /// commit flushed: what the benches measure) or without fsync (the tests).
    pub fn start_with(listen: &[&str], subnet: Option<&str>, durable: bool) -> Option<Server> {
        if std::env::var_os(SKIP_VAR).is_some_and(|v| !v.is_empty() && v != "0") {
            eprintln!("{SKIP_VAR} is set: skipping a PostgreSQL test");
            return None;
        }
        let data = init_data();
        if let Some(subnet) = subnet {
            use std::io::Write as _;
            let mut hba = std::fs::OpenOptions::new()
                .append(true)
                .open(data.dir.join("data/pg_hba.conf"))
                .expect("pg_hba.conf opens");
            writeln!(hba, "host all all {subnet} trust").expect("pg_hba.conf is written");
        }
        let (exited_tx, exited) = std::sync::mpsc::channel();
        let mut server = Server {
            data,
            listen: listen.join(","),
            durable,
            pid: None,
            exited,
            exited_tx,
        };
        server.start_again();
        Some(server)
    }

    /// Starts the stopped server on its data again and waits until it accepts
    /// connections.
    pub fn start_again(&mut self) {
        assert!(self.pid.is_none(), "the server is running");
        self.pid = Some(spawn_server(
            &self.data,
            &self.listen,
            self.durable,
            self.exited_tx.clone(),
        ));
        await_server(&self.data.dir);
    }

    /// Stops the server with `signal` (`INT`: fast shutdown, every session ended and
    /// its transaction rolled back; `QUIT`: immediate, a crash as far as the data
    /// knows) and waits until it is gone.
    pub fn stop(&mut self, signal: &str) {
        let Some(pid) = self.pid.take() else { return };
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status();
        self.exited
            .recv_timeout(Duration::from_secs(60))
            .expect("the server stops");
    }

    /// A connection string for `database` over the socket.
    pub fn url(&self, database: &str) -> String {
        format!(
            "host={} port=5432 user=postgres dbname={database} connect_timeout=10",
            self.data.dir.display()
        )
    }

    /// A connection string for `database` over TCP to `address`.
    pub fn tcp_url(&self, address: &str, database: &str) -> String {
        format!("host={address} port=5432 user=postgres dbname={database} connect_timeout=2")
    }

    /// A connection of the test's own to `database`.
    pub fn client(&self, database: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(database), postgres::NoTls)
            .expect("the test server accepts connections")
    }

    /// Creates the database `name`.
    pub fn create_db(&self, name: &str) {
        self.client("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a test database is created");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop("INT");
        let _ = std::fs::remove_dir_all(&self.data.dir);
    }
}
