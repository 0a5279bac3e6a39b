//! `crashsim`: a SQLite VFS that simulates power loss by losing every write not yet fsync'd.
//!
//! The power-cut test in `crash_injection.rs` kills the writer with SIGKILL; the kernel's page
//! cache survives that, so a missing or misplaced fsync can never show there. This VFS puts a
//! simulated page cache between SQLite and the disk:
//!
//! - It wraps the default VFS (`unix`), registered under its own name, never as the default; a
//!   connection uses it through `SqliteConnectOptions::vfs` ([`journal::Journal::open_with_vfs`]).
//! - Writes and truncations of a durable file (main database, rollback journal, WAL) go into an
//!   in-memory overlay of that file, kept per path in 512-byte blocks. Reads, and the file size,
//!   see the overlay on top of the real file, as reads see the page cache.
//! - `xSync` on a file applies its overlay to the real file and fsyncs it: only then are the
//!   writes durable. Closing a file does not sync it (its overlay stays, like dirty pages).
//! - [`CrashVfs::crash`] is the power cut: every overlay of every file is thrown away. With
//!   [`CrashVfs::set_landing`] some or all of the unsynced blocks and truncations land first, as
//!   when the kernel wrote back dirty pages before the power went: a seeded random subset, each
//!   512-byte block whole or not at all ([`Landing::Torn`]), or all of them
//!   ([`Landing::Everything`], e.g. the power went while an fsync was completing). From then on
//!   the VFS is "off": reads, writes, syncs, deletes and opens fail, so the dead connection can
//!   change nothing while it is closed. Locks and shared memory are still forwarded (they are not
//!   durable; the next opener rebuilds the WAL index from the WAL).
//! - [`CrashVfs::crash_at_op`] arms a power cut just before the n-th durable operation (write,
//!   truncate, sync, delete): a deterministic crash in the middle of a commit.
//! - [`CrashVfs::set_sync_honoured`]`(false)` makes `xSync` claim success without making
//!   anything durable, the bug this VFS is meant to catch; the tests use it to prove they can fail.
//!
//! Temporary files (statement journals, temp databases) are passed straight through.
//!
//! Not modelled: directory entries (a file's creation and deletion are durable at once), and
//! bit rot of synced data. The memory-mapped I/O path is switched off for files of this VFS
//! (`xFetch` never maps), so every read comes through `xRead`.
//!
//! Each test registers its own instance (its own name and its own simulated disk), so tests of
//! one binary, which run in parallel threads, cannot cut each other's power.
#![allow(dead_code)] // each test binary uses a different subset
#![deny(unsafe_op_in_unsafe_fn)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::os::unix::fs::FileExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

/// Granularity of the overlay and of torn writes.
const BLOCK: u64 = 512;

/// File types whose contents must survive a power cut once synced.
const DURABLE_TYPES: c_int = ffi::SQLITE_OPEN_MAIN_DB
    | ffi::SQLITE_OPEN_MAIN_JOURNAL
    | ffi::SQLITE_OPEN_WAL
    | ffi::SQLITE_OPEN_SUPER_JOURNAL;

/// What reaches the disk of the unsynced writes at a power cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Landing {
    /// Nothing: every unsynced write is lost.
    Nothing,
    /// A random half (seeded) of the unsynced blocks, and maybe the pending truncation.
    Torn(u64),
    /// All of them: the data was on the disk, only the fsync had not returned.
    Everything,
}

/// The seeded generator of the crash rounds: a seed replays the same run forever.
pub use simkit::rng::SplitMix64 as Rng;

/// What the simulated disk went through, for test reports and sanity checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Durable operations seen since the last [`CrashVfs::power_on`] (what `crash_at_op` counts).
    pub ops: u64,
    /// `xSync` calls on durable files, ever.
    pub syncs: u64,
    /// Power cuts, ever.
    pub crashes: u64,
    /// Unsynced blocks thrown away by power cuts, ever.
    pub blocks_lost: u64,
    /// Unsynced blocks that landed anyway (torn or everything landing), ever.
    pub blocks_landed: u64,
    /// Reads answered (at least partly) from an overlay, ever.
    pub overlay_reads: u64,
}

/// The unsynced state of one file: its logical size and contents as the process sees them.
#[derive(Debug)]
struct Overlay {
    /// Logical size.
    size: u64,
    /// Bytes of the real file at or past this offset were truncated away (unsynced) and read as
    /// zero unless an overlay block covers them. Never above `size`.
    floor: u64,
    /// Dirty blocks, by index; each holds the block's full logical contents.
    blocks: BTreeMap<u64, Box<[u8]>>,
}

/// A file open through the VFS.
#[derive(Debug)]
struct OpenFile {
    /// The path, for durable files; `None` for temporary ones (passed through untouched).
    path: Option<String>,
    /// The wrapped `unix` file (address of its `sqlite3_file`).
    real: usize,
}

/// The simulated disk: dirty overlays by path, open files, power state.
#[derive(Debug)]
struct Disk {
    dirty: HashMap<String, Overlay>,
    open: HashMap<u64, OpenFile>,
    next_id: u64,
    powered_off: bool,
    crash_at: Option<u64>,
    landing: Landing,
    sync_honoured: bool,
    stats: Stats,
}

/// One registered crash-simulating VFS and its simulated disk.
pub struct CrashVfs {
    name: String,
    base: VfsPtr,
    /// The `sqlite3_vfs` registered with SQLite for this instance.
    registered: VfsPtr,
    disk: Mutex<Disk>,
}

/// A pointer to a `sqlite3_vfs` that lives for the rest of the process.
#[derive(Clone, Copy)]
struct VfsPtr(*mut ffi::sqlite3_vfs);

// SAFETY: both pointees live for the rest of the process (the default VFS is a static object of
// SQLite; ours are leaked) and are only read after registration (SQLite itself updates `pNext`
// under its own mutex); SQLite's VFS methods may be called from any thread (SQLITE_THREADSAFE=1).
unsafe impl Send for VfsPtr {}
// SAFETY: as above.
unsafe impl Sync for VfsPtr {}

/// Instances by name.
fn registry() -> &'static Mutex<HashMap<String, &'static CrashVfs>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, &'static CrashVfs>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bytes in front of the wrapped file inside our `sqlite3_file` allocation (8-aligned, as SQLite
/// allocates `szOsFile` bytes with 8-byte alignment).
const HEADER: usize = std::mem::size_of::<SimFile>().next_multiple_of(8);

/// Our `sqlite3_file`: SQLite allocates `szOsFile` bytes for it, this header followed by the
/// wrapped `unix` file.
#[repr(C)]
struct SimFile {
    /// Must come first: SQLite sees a `sqlite3_file`.
    base: ffi::sqlite3_file,
    vfs: *const CrashVfs,
    id: u64,
}

impl CrashVfs {
    /// Registers (once per name) a crash-simulating VFS over the default VFS, not as default.
    pub fn register(name: &str) -> &'static CrashVfs {
        let mut reg = lock(registry());
        if let Some(vfs) = reg.get(name) {
            return vfs;
        }
        // SAFETY: sqlite3_vfs_find initialises SQLite if needed and returns the default VFS, a
        // static object, or NULL.
        let base = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
        assert!(!base.is_null(), "SQLite has no default VFS");
        // SAFETY: non-null, points to a registered VFS that lives as long as the process.
        let base_ref = unsafe { &*base };
        // SAFETY: zName of a registered VFS is a NUL-terminated string.
        let base_name = unsafe { CStr::from_ptr(base_ref.zName) }.to_string_lossy().into_owned();
        assert_eq!(base_name, "unix", "crashsim wraps the unix VFS");
        let zname = CString::new(name).expect("VFS name without NUL").into_raw();
        let raw = Box::into_raw(Box::new(ffi::sqlite3_vfs {
            iVersion: 2,
            szOsFile: c_int::try_from(HEADER).expect("small header") + base_ref.szOsFile,
            mxPathname: base_ref.mxPathname,
            pNext: ptr::null_mut(),
            zName: zname,
            pAppData: ptr::null_mut(),
            xOpen: Some(x_open),
            xDelete: Some(x_delete),
            xAccess: Some(x_access),
            xFullPathname: Some(x_full_pathname),
            xDlOpen: Some(x_dl_open),
            xDlError: Some(x_dl_error),
            xDlSym: Some(x_dl_sym),
            xDlClose: Some(x_dl_close),
            xRandomness: Some(x_randomness),
            xSleep: Some(x_sleep),
            xCurrentTime: Some(x_current_time),
            xGetLastError: Some(x_get_last_error),
            xCurrentTimeInt64: Some(x_current_time_int64),
            xSetSystemCall: None,
            xGetSystemCall: None,
            xNextSystemCall: None,
        }));
        let vfs: &'static CrashVfs = Box::leak(Box::new(CrashVfs {
            name: name.to_owned(),
            base: VfsPtr(base),
            registered: VfsPtr(raw),
            disk: Mutex::new(Disk {
                dirty: HashMap::new(),
                open: HashMap::new(),
                next_id: 1,
                powered_off: false,
                crash_at: None,
                landing: Landing::Nothing,
                sync_honoured: true,
                stats: Stats::default(),
            }),
        }));
        // SAFETY: `raw` is ours and not yet registered, so nothing else reads it; pAppData is
        // only ever read back as the leaked, 'static `CrashVfs`.
        unsafe { (*raw).pAppData = vfs as *const CrashVfs as *mut c_void };
        // SAFETY: `raw` is a fully initialised sqlite3_vfs that is never freed; makeDflt = 0.
        let rc = unsafe { ffi::sqlite3_vfs_register(raw, 0) };
        assert_eq!(rc, ffi::SQLITE_OK, "sqlite3_vfs_register({name})");
        reg.insert(name.to_owned(), vfs);
        vfs
    }

    /// The name to pass to `SqliteConnectOptions::vfs` / `Journal::open_with_vfs`.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn disk(&self) -> MutexGuard<'_, Disk> {
        lock(&self.disk)
    }

    /// Power cut now: unsynced writes of every file of this VFS are lost (in torn mode, some of
    /// them land first), and the VFS stays off until [`CrashVfs::power_on`].
    pub fn crash(&self) {
        self.disk().crash();
    }

    /// Arms a power cut just before the `n`-th durable operation (write, truncate, sync, delete)
    /// counted since [`CrashVfs::power_on`]; that operation fails and changes nothing.
    pub fn crash_at_op(&self, n: u64) {
        self.disk().crash_at = Some(n);
    }

    /// What of the unsynced writes reaches the disk at the next power cuts.
    pub fn set_landing(&self, landing: Landing) {
        self.disk().landing = landing;
    }

    /// `false`: `xSync` succeeds but makes nothing durable (a lying disk or a missing fsync).
    pub fn set_sync_honoured(&self, honoured: bool) {
        self.disk().sync_honoured = honoured;
    }

    /// After a power cut: the machine boots again. Panics if a file of the dead process is still
    /// open (close every connection first, see [`CrashVfs::wait_closed`]).
    pub fn power_on(&self) {
        let mut disk = self.disk();
        assert!(
            disk.open.is_empty(),
            "{} files still open through {} at power-on",
            disk.open.len(),
            self.name
        );
        disk.powered_off = false;
        disk.crash_at = None;
        disk.stats.ops = 0;
    }

    pub fn is_powered_off(&self) -> bool {
        self.disk().powered_off
    }

    /// Files currently open through this VFS.
    pub fn open_files(&self) -> usize {
        self.disk().open.len()
    }

    /// Waits until every file of this VFS is closed; false on timeout. sqlx closes a dropped
    /// connection on its worker thread, after a task of the runtime hands it back, so this
    /// yields to the runtime while it waits.
    pub async fn wait_closed(&self, timeout: Duration) -> bool {
        let start = Instant::now();
        while self.open_files() > 0 {
            if start.elapsed() > timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        true
    }

    pub fn stats(&self) -> Stats {
        self.disk().stats
    }

    /// Opens `path` as a main database file straight through this VFS, for tests of the VFS
    /// itself.
    pub fn open_raw(&'static self, path: &Path) -> Result<RawFile, c_int> {
        let sz = usize::try_from(
            // SAFETY: `registered` is our leaked, initialised sqlite3_vfs.
            unsafe { (*self.registered.0).szOsFile },
        )
        .expect("positive szOsFile");
        let mut mem = vec![0_u64; sz.div_ceil(8)].into_boxed_slice();
        // A sqlite3_filename: the name, then an empty list of URI parameters.
        let mut name = path.to_str().expect("UTF-8 path").as_bytes().to_vec();
        name.extend_from_slice(&[0, 0, 0, 0]);
        let file = mem.as_mut_ptr().cast::<ffi::sqlite3_file>();
        let flags = ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_READWRITE;
        let mut out = 0;
        // SAFETY: `file` points to szOsFile zeroed, 8-aligned bytes that outlive the open file
        // (RawFile owns them and closes the file before dropping them); the name is
        // NUL-terminated and outlives the call.
        let rc = unsafe { x_open(self.registered.0, name.as_ptr().cast(), file, flags, &mut out) };
        if rc != ffi::SQLITE_OK {
            return Err(rc);
        }
        Ok(RawFile { mem, open: true })
    }
}

impl Disk {
    fn crash(&mut self) {
        if self.powered_off {
            return;
        }
        let mut torn = match self.landing {
            Landing::Torn(seed) => Some(Rng::new(seed)),
            Landing::Nothing | Landing::Everything => None,
        };
        // In path order, so that a torn seed replays the same landing.
        let mut dirty: Vec<(String, Overlay)> = std::mem::take(&mut self.dirty).into_iter().collect();
        dirty.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, overlay) in dirty {
            let total = overlay.blocks.len() as u64;
            let landed = match self.landing {
                Landing::Nothing => 0,
                Landing::Torn(_) | Landing::Everything => self.land_some(&path, &overlay, torn.as_mut()),
            };
            self.stats.blocks_landed += landed;
            self.stats.blocks_lost += total - landed;
        }
        self.powered_off = true;
        self.crash_at = None;
        self.stats.crashes += 1;
    }

    /// Writes a random subset of the overlay's blocks (and maybe its truncation) to the real file,
    /// or, when `rng` is `None`, all of it (the file then ends up as a sync would leave it), as
    /// the kernel may have written back dirty pages before the power went. Uses an open handle of
    /// the file when there is one (closing another descriptor of the file would drop this
    /// process's POSIX locks on it). Best effort: an I/O error loses the block.
    fn land_some(&self, path: &str, overlay: &Overlay, rng: Option<&mut Rng>) -> u64 {
        let everything = rng.is_none();
        let mut rng = rng;
        let mut coin = move || rng.as_mut().is_none_or(|rng| rng.chance(1, 2));
        let handle = self.open.values().find(|f| f.path.as_deref() == Some(path)).map(|f| f.real);
        let mut landed = 0;
        match handle {
            Some(real) => {
                let real = real as *mut ffi::sqlite3_file;
                // SAFETY: `real` is an open unix file of this disk (it is in `open`, and files
                // leave `open` only when closed, under the same lock that we hold).
                let real_len = unsafe { real_size(real) }.unwrap_or(0);
                if overlay.floor < real_len && coin() {
                    // SAFETY: as above.
                    let _ = unsafe { real_truncate(real, overlay.floor) };
                }
                for (start, bytes) in overlay.landable() {
                    // SAFETY: as above.
                    if coin() && unsafe { real_write(real, bytes, start) }.is_ok() {
                        landed += 1;
                    }
                }
                // SAFETY: as above.
                if everything && unsafe { real_size(real) }.is_ok_and(|len| len != overlay.size) {
                    // SAFETY: as above.
                    let _ = unsafe { real_truncate(real, overlay.size) };
                }
            }
            None => {
                let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) else { return 0 };
                let real_len = file.metadata().map(|m| m.len()).unwrap_or(0);
                if overlay.floor < real_len && coin() {
                    let _ = file.set_len(overlay.floor);
                }
                for (start, bytes) in overlay.landable() {
                    if coin() && file.write_all_at(bytes, start).is_ok() {
                        landed += 1;
                    }
                }
                if everything {
                    let _ = file.set_len(overlay.size);
                }
            }
        }
        landed
    }

    /// Counts one durable operation; true if the power is off (now or already).
    fn tick(&mut self) -> bool {
        if self.powered_off {
            return true;
        }
        self.stats.ops += 1;
        if self.crash_at == Some(self.stats.ops) {
            self.crash();
        }
        self.powered_off
    }
}

impl Overlay {
    /// An overlay that changes nothing yet: the real file's size and contents.
    ///
    /// # Safety
    /// `real` must be an open unix file.
    unsafe fn over(real: *mut ffi::sqlite3_file) -> Result<Overlay, c_int> {
        // SAFETY: per the contract.
        let size = unsafe { real_size(real) }?;
        Ok(Overlay { size, floor: size, blocks: BTreeMap::new() })
    }

    /// Reads like `xRead`: short reads are zero-filled and give SQLITE_IOERR_SHORT_READ.
    ///
    /// # Safety
    /// `real` must be the open unix file this overlay belongs to.
    unsafe fn read(&self, real: *mut ffi::sqlite3_file, buf: &mut [u8], off: u64) -> c_int {
        buf.fill(0);
        if buf.is_empty() {
            return ffi::SQLITE_OK;
        }
        let end = off + buf.len() as u64;
        let from_real = end.min(self.floor);
        if from_real > off {
            // SAFETY: per the contract.
            if let Err(rc) = unsafe { real_read(real, &mut buf[..(from_real - off) as usize], off) } {
                return rc;
            }
        }
        for (&idx, block) in self.blocks.range(off / BLOCK..=(end - 1) / BLOCK) {
            let start = idx * BLOCK;
            let lo = off.max(start);
            let hi = end.min(start + BLOCK);
            buf[(lo - off) as usize..(hi - off) as usize]
                .copy_from_slice(&block[(lo - start) as usize..(hi - start) as usize]);
        }
        if end > self.size {
            let valid = self.size.saturating_sub(off).min(buf.len() as u64) as usize;
            buf[valid..].fill(0);
            return ffi::SQLITE_IOERR_SHORT_READ;
        }
        ffi::SQLITE_OK
    }

    /// The block `idx`, loaded with its current logical contents if not dirty yet.
    ///
    /// # Safety
    /// `real` must be the open unix file this overlay belongs to.
    unsafe fn block(&mut self, real: *mut ffi::sqlite3_file, idx: u64) -> Result<&mut [u8], c_int> {
        if !self.blocks.contains_key(&idx) {
            let mut block = vec![0_u8; BLOCK as usize].into_boxed_slice();
            let start = idx * BLOCK;
            // Real bytes count up to the truncation floor; between floor and size, zeros.
            let from_real = (start + BLOCK).min(self.floor);
            if from_real > start {
                // SAFETY: per the contract.
                unsafe { real_read(real, &mut block[..(from_real - start) as usize], start) }?;
            }
            self.blocks.insert(idx, block);
        }
        Ok(self.blocks.get_mut(&idx).expect("just inserted"))
    }

    /// # Safety
    /// `real` must be the open unix file this overlay belongs to.
    unsafe fn write(&mut self, real: *mut ffi::sqlite3_file, data: &[u8], off: u64) -> Result<(), c_int> {
        if data.is_empty() {
            return Ok(());
        }
        let end = off + data.len() as u64;
        for idx in off / BLOCK..=(end - 1) / BLOCK {
            let start = idx * BLOCK;
            let lo = off.max(start);
            let hi = end.min(start + BLOCK);
            // SAFETY: per the contract.
            let block = unsafe { self.block(real, idx) }?;
            block[(lo - start) as usize..(hi - start) as usize]
                .copy_from_slice(&data[(lo - off) as usize..(hi - off) as usize]);
        }
        self.size = self.size.max(end);
        Ok(())
    }

    fn truncate(&mut self, size: u64) {
        if size < self.size {
            self.floor = self.floor.min(size);
            drop(self.blocks.split_off(&size.div_ceil(BLOCK)));
            if size % BLOCK != 0 {
                if let Some(block) = self.blocks.get_mut(&(size / BLOCK)) {
                    block[(size % BLOCK) as usize..].fill(0);
                }
            }
        }
        self.size = size;
    }

    /// The dirty blocks as they would be written: offset and bytes, cut at the logical size.
    fn landable(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.blocks.iter().filter_map(|(&idx, block)| {
            let start = idx * BLOCK;
            let len = self.size.saturating_sub(start).min(BLOCK) as usize;
            (len > 0).then(|| (start, &block[..len]))
        })
    }

    /// Makes the real file equal to the logical one (not yet fsync'd).
    ///
    /// # Safety
    /// `real` must be the open unix file this overlay belongs to.
    unsafe fn apply(&self, real: *mut ffi::sqlite3_file) -> Result<(), c_int> {
        // SAFETY: `real` is the open unix file of this overlay (the contract), for every call.
        unsafe {
            if real_size(real)? > self.floor {
                real_truncate(real, self.floor)?;
            }
            for (start, bytes) in self.landable() {
                real_write(real, bytes, start)?;
            }
            if real_size(real)? != self.size {
                real_truncate(real, self.size)?;
            }
        }
        Ok(())
    }
}

// ---- Calls into the wrapped unix file ------------------------------------------------------

/// The methods of an open unix file.
///
/// # Safety
/// `real` must be an open file of the unix VFS.
unsafe fn methods<'a>(real: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    // SAFETY: an open unix file has non-null, static pMethods.
    unsafe { &*(*real).pMethods }
}

fn check(rc: c_int) -> Result<(), c_int> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}

/// # Safety
/// `real` must be an open file of the unix VFS.
unsafe fn real_size(real: *mut ffi::sqlite3_file) -> Result<u64, c_int> {
    let mut size: ffi::sqlite3_int64 = 0;
    // SAFETY: per the contract; unix always provides xFileSize.
    check(unsafe { (methods(real).xFileSize.expect("xFileSize"))(real, &mut size) })?;
    Ok(u64::try_from(size).unwrap_or(0))
}

/// Reads `buf.len()` bytes at `off`; a short read is zero-filled and counts as success.
///
/// # Safety
/// `real` must be an open file of the unix VFS.
unsafe fn real_read(real: *mut ffi::sqlite3_file, buf: &mut [u8], off: u64) -> Result<(), c_int> {
    let amt = c_int::try_from(buf.len()).map_err(|_| ffi::SQLITE_IOERR_READ)?;
    let off = i64::try_from(off).map_err(|_| ffi::SQLITE_IOERR_READ)?;
    // SAFETY: per the contract; buf is valid for amt bytes.
    let rc = unsafe { (methods(real).xRead.expect("xRead"))(real, buf.as_mut_ptr().cast(), amt, off) };
    match rc {
        ffi::SQLITE_OK | ffi::SQLITE_IOERR_SHORT_READ => Ok(()),
        rc => Err(rc),
    }
}

/// # Safety
/// `real` must be an open file of the unix VFS.
unsafe fn real_write(real: *mut ffi::sqlite3_file, data: &[u8], off: u64) -> Result<(), c_int> {
    let amt = c_int::try_from(data.len()).map_err(|_| ffi::SQLITE_IOERR_WRITE)?;
    let off = i64::try_from(off).map_err(|_| ffi::SQLITE_IOERR_WRITE)?;
    // SAFETY: per the contract; data is valid for amt bytes.
    check(unsafe { (methods(real).xWrite.expect("xWrite"))(real, data.as_ptr().cast(), amt, off) })
}

/// # Safety
/// `real` must be an open file of the unix VFS.
unsafe fn real_truncate(real: *mut ffi::sqlite3_file, size: u64) -> Result<(), c_int> {
    let size = i64::try_from(size).map_err(|_| ffi::SQLITE_IOERR_TRUNCATE)?;
    // SAFETY: per the contract.
    check(unsafe { (methods(real).xTruncate.expect("xTruncate"))(real, size) })
}

// ---- The VFS methods ---------------------------------------------------------------------------

/// Runs a VFS method body; a panic becomes the error code `err` instead of unwinding into C.
fn guard(err: c_int, body: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(err)
}

/// Our instance behind a `sqlite3_vfs` we registered.
///
/// # Safety
/// `vfs` must be a `sqlite3_vfs` registered by [`CrashVfs::register`].
unsafe fn instance(vfs: *mut ffi::sqlite3_vfs) -> &'static CrashVfs {
    // SAFETY: register set pAppData to a leaked &'static CrashVfs before registering.
    unsafe { &*((*vfs).pAppData as *const CrashVfs) }
}

/// The default VFS behind our instance.
///
/// # Safety
/// As for [`instance`].
unsafe fn base_of(vfs: *mut ffi::sqlite3_vfs) -> &'static ffi::sqlite3_vfs {
    // SAFETY: per the contract; the base VFS lives for the rest of the process.
    unsafe { &*instance(vfs).base.0 }
}

/// Our instance, file id and wrapped unix file of an open file.
///
/// # Safety
/// `file` must have been opened by [`x_open`] and not closed yet.
unsafe fn parts(file: *mut ffi::sqlite3_file) -> (&'static CrashVfs, u64, *mut ffi::sqlite3_file) {
    let sim = file.cast::<SimFile>();
    // SAFETY: x_open wrote a SimFile at `file` and the unix file HEADER bytes after it, inside
    // one allocation of szOsFile bytes.
    unsafe { (&*(*sim).vfs, (*sim).id, file.cast::<u8>().add(HEADER).cast()) }
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    guard(ffi::SQLITE_CANTOPEN, || {
        // SAFETY: SQLite gives us a writable block of szOsFile (= HEADER + unix szOsFile) bytes at
        // `file`, 8-aligned; `vfs` is ours. A NULL pMethods tells SQLite not to call xClose if we
        // fail.
        unsafe {
            (*file).pMethods = ptr::null();
            let this = instance(vfs);
            let base = this.base.0;
            let real = file.cast::<u8>().add(HEADER).cast::<ffi::sqlite3_file>();
            let mut disk = this.disk();
            if disk.powered_off {
                return ffi::SQLITE_CANTOPEN;
            }
            (*real).pMethods = ptr::null();
            let rc = ((*base).xOpen.expect("unix xOpen"))(base, name, real, flags, out_flags);
            if rc != ffi::SQLITE_OK {
                if !(*real).pMethods.is_null() {
                    (methods(real).xClose.expect("xClose"))(real);
                }
                return rc;
            }
            let durable = !name.is_null() && flags & DURABLE_TYPES != 0;
            let path = durable.then(|| CStr::from_ptr(name).to_string_lossy().into_owned());
            let id = disk.next_id;
            disk.next_id += 1;
            disk.open.insert(id, OpenFile { path, real: real as usize });
            ptr::write(
                file.cast::<SimFile>(),
                SimFile { base: ffi::sqlite3_file { pMethods: &IO_METHODS }, vfs: this, id },
            );
            ffi::SQLITE_OK
        }
    })
}

unsafe extern "C" fn x_delete(vfs: *mut ffi::sqlite3_vfs, name: *const c_char, sync_dir: c_int) -> c_int {
    guard(ffi::SQLITE_IOERR_DELETE, || {
        // SAFETY: `vfs` is ours; `name` is a NUL-terminated path from SQLite.
        unsafe {
            let this = instance(vfs);
            let mut disk = this.disk();
            if disk.tick() {
                return ffi::SQLITE_IOERR_DELETE;
            }
            if !name.is_null() {
                let path = CStr::from_ptr(name).to_string_lossy();
                disk.dirty.remove(path.as_ref());
            }
            let base = this.base.0;
            ((*base).xDelete.expect("unix xDelete"))(base, name, sync_dir)
        }
    })
}

unsafe extern "C" fn x_access(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    flags: c_int,
    out: *mut c_int,
) -> c_int {
    guard(ffi::SQLITE_IOERR_ACCESS, || {
        // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
        unsafe {
            let base = instance(vfs).base.0;
            ((*base).xAccess.expect("unix xAccess"))(base, name, flags, out)
        }
    })
}

unsafe extern "C" fn x_full_pathname(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    n_out: c_int,
    out: *mut c_char,
) -> c_int {
    guard(ffi::SQLITE_CANTOPEN, || {
        // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
        unsafe {
            let base = instance(vfs).base.0;
            ((*base).xFullPathname.expect("unix xFullPathname"))(base, name, n_out, out)
        }
    })
}

unsafe extern "C" fn x_dl_open(vfs: *mut ffi::sqlite3_vfs, name: *const c_char) -> *mut c_void {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        let base = instance(vfs).base.0;
        match (*base).xDlOpen {
            Some(f) => f(base, name),
            None => ptr::null_mut(),
        }
    }))
    .unwrap_or(ptr::null_mut())
}

unsafe extern "C" fn x_dl_error(vfs: *mut ffi::sqlite3_vfs, n: c_int, msg: *mut c_char) {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        let base = instance(vfs).base.0;
        if let Some(f) = (*base).xDlError {
            f(base, n, msg);
        }
    }));
}

type DlSym = Option<unsafe extern "C" fn(*mut ffi::sqlite3_vfs, *mut c_void, *const c_char)>;

unsafe extern "C" fn x_dl_sym(
    vfs: *mut ffi::sqlite3_vfs,
    handle: *mut c_void,
    symbol: *const c_char,
) -> DlSym {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        let base = instance(vfs).base.0;
        (*base).xDlSym.and_then(|f| f(base, handle, symbol))
    }))
    .unwrap_or(None)
}

unsafe extern "C" fn x_dl_close(vfs: *mut ffi::sqlite3_vfs, handle: *mut c_void) {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        let base = instance(vfs).base.0;
        if let Some(f) = (*base).xDlClose {
            f(base, handle);
        }
    }));
}

unsafe extern "C" fn x_randomness(vfs: *mut ffi::sqlite3_vfs, n: c_int, out: *mut c_char) -> c_int {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    guard(0, || unsafe {
        let base = base_of(vfs);
        (base.xRandomness.expect("unix xRandomness"))(instance(vfs).base.0, n, out)
    })
}

unsafe extern "C" fn x_sleep(vfs: *mut ffi::sqlite3_vfs, micros: c_int) -> c_int {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    guard(0, || unsafe {
        let base = base_of(vfs);
        (base.xSleep.expect("unix xSleep"))(instance(vfs).base.0, micros)
    })
}

unsafe extern "C" fn x_current_time(vfs: *mut ffi::sqlite3_vfs, out: *mut f64) -> c_int {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    guard(ffi::SQLITE_ERROR, || unsafe {
        let base = base_of(vfs);
        (base.xCurrentTime.expect("unix xCurrentTime"))(instance(vfs).base.0, out)
    })
}

unsafe extern "C" fn x_get_last_error(vfs: *mut ffi::sqlite3_vfs, n: c_int, out: *mut c_char) -> c_int {
    // SAFETY: forwarded unchanged to the base VFS, which has the same contract.
    guard(0, || unsafe {
        let base = base_of(vfs);
        match base.xGetLastError {
            Some(f) => f(instance(vfs).base.0, n, out),
            None => 0,
        }
    })
}

unsafe extern "C" fn x_current_time_int64(vfs: *mut ffi::sqlite3_vfs, out: *mut ffi::sqlite3_int64) -> c_int {
    // SAFETY: forwarded unchanged to the base VFS (iVersion >= 2), which has the same contract.
    guard(ffi::SQLITE_ERROR, || unsafe {
        let base = base_of(vfs);
        (base.xCurrentTimeInt64.expect("unix xCurrentTimeInt64"))(instance(vfs).base.0, out)
    })
}

// ---- The file methods ------------------------------------------------------------------------

static IO_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(f_close),
    xRead: Some(f_read),
    xWrite: Some(f_write),
    xTruncate: Some(f_truncate),
    xSync: Some(f_sync),
    xFileSize: Some(f_file_size),
    xLock: Some(f_lock),
    xUnlock: Some(f_unlock),
    xCheckReservedLock: Some(f_check_reserved_lock),
    xFileControl: Some(f_file_control),
    xSectorSize: Some(f_sector_size),
    xDeviceCharacteristics: Some(f_device_characteristics),
    xShmMap: Some(f_shm_map),
    xShmLock: Some(f_shm_lock),
    xShmBarrier: Some(f_shm_barrier),
    xShmUnmap: Some(f_shm_unmap),
    xFetch: Some(f_fetch),
    xUnfetch: Some(f_unfetch),
};

unsafe extern "C" fn f_close(file: *mut ffi::sqlite3_file) -> c_int {
    guard(ffi::SQLITE_IOERR_CLOSE, || {
        // SAFETY: SQLite closes each file it opened through us exactly once; after this it
        // frees the memory, so nothing of ours may point into it (we remove its entry). The
        // overlay, keyed by path, stays: closing does not sync.
        unsafe {
            let (this, id, real) = parts(file);
            let mut disk = this.disk();
            let rc = (methods(real).xClose.expect("xClose"))(real);
            disk.open.remove(&id);
            rc
        }
    })
}

unsafe extern "C" fn f_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amt: c_int,
    off: ffi::sqlite3_int64,
) -> c_int {
    guard(ffi::SQLITE_IOERR_READ, || {
        let (Ok(len), Ok(off)) = (usize::try_from(amt), u64::try_from(off)) else {
            return ffi::SQLITE_IOERR_READ;
        };
        // SAFETY: `file` is open (SQLite's contract) and `buf` is valid for `amt` bytes; the
        // disk lock is held for every use of the unix file.
        unsafe {
            let (this, id, real) = parts(file);
            let mut guard = this.disk();
            let disk = &mut *guard;
            if disk.powered_off {
                return ffi::SQLITE_IOERR_READ;
            }
            let buf = std::slice::from_raw_parts_mut(buf.cast::<u8>(), len);
            let overlay = disk.open.get(&id).and_then(|f| f.path.as_ref()).and_then(|p| disk.dirty.get(p));
            match overlay {
                Some(overlay) => {
                    disk.stats.overlay_reads += 1;
                    overlay.read(real, buf, off)
                }
                None => (methods(real).xRead.expect("xRead"))(real, buf.as_mut_ptr().cast(), amt, off as i64),
            }
        }
    })
}

/// Runs `op` on the overlay of a durable file (created on first use), or returns `None` for a
/// temporary file, which the caller passes through.
///
/// # Safety
/// `real` must be the open unix file with id `id`.
unsafe fn with_overlay(
    disk: &mut Disk,
    id: u64,
    real: *mut ffi::sqlite3_file,
    op: impl FnOnce(&mut Overlay) -> Result<(), c_int>,
) -> Option<Result<(), c_int>> {
    let path = disk.open.get(&id).and_then(|f| f.path.clone())?;
    let overlay = match disk.dirty.entry(path) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        // SAFETY: per the contract.
        std::collections::hash_map::Entry::Vacant(e) => match unsafe { Overlay::over(real) } {
            Ok(o) => e.insert(o),
            Err(rc) => return Some(Err(rc)),
        },
    };
    Some(op(overlay))
}

fn is_durable(disk: &Disk, id: u64) -> bool {
    disk.open.get(&id).is_some_and(|f| f.path.is_some())
}

unsafe extern "C" fn f_write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amt: c_int,
    off: ffi::sqlite3_int64,
) -> c_int {
    guard(ffi::SQLITE_IOERR_WRITE, || {
        let (Ok(len), Ok(off)) = (usize::try_from(amt), u64::try_from(off)) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        // SAFETY: `file` is open and `data` valid for `amt` bytes (SQLite's contract); the disk
        // lock is held for every use of the unix file.
        unsafe {
            let (this, id, real) = parts(file);
            let mut disk = this.disk();
            if disk.powered_off || (is_durable(&disk, id) && disk.tick()) {
                return ffi::SQLITE_IOERR_WRITE;
            }
            let data = std::slice::from_raw_parts(data.cast::<u8>(), len);
            match with_overlay(&mut disk, id, real, |o| o.write(real, data, off)) {
                Some(Ok(())) => ffi::SQLITE_OK,
                Some(Err(_)) => ffi::SQLITE_IOERR_WRITE,
                None => (methods(real).xWrite.expect("xWrite"))(real, data.as_ptr().cast(), amt, off as i64),
            }
        }
    })
}

unsafe extern "C" fn f_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    guard(ffi::SQLITE_IOERR_TRUNCATE, || {
        let Ok(new_size) = u64::try_from(size) else { return ffi::SQLITE_IOERR_TRUNCATE };
        // SAFETY: `file` is open (SQLite's contract); the disk lock is held.
        unsafe {
            let (this, id, real) = parts(file);
            let mut disk = this.disk();
            if disk.powered_off || (is_durable(&disk, id) && disk.tick()) {
                return ffi::SQLITE_IOERR_TRUNCATE;
            }
            match with_overlay(&mut disk, id, real, |o| {
                o.truncate(new_size);
                Ok(())
            }) {
                Some(Ok(())) => ffi::SQLITE_OK,
                Some(Err(_)) => ffi::SQLITE_IOERR_TRUNCATE,
                None => (methods(real).xTruncate.expect("xTruncate"))(real, size),
            }
        }
    })
}

unsafe extern "C" fn f_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    guard(ffi::SQLITE_IOERR_FSYNC, || {
        // SAFETY: `file` is open (SQLite's contract); the disk lock is held.
        unsafe {
            let (this, id, real) = parts(file);
            let mut guard = this.disk();
            let disk = &mut *guard;
            let Some(path) = disk.open.get(&id).map(|f| f.path.clone()) else {
                return ffi::SQLITE_IOERR_FSYNC;
            };
            let Some(path) = path else {
                if disk.powered_off {
                    return ffi::SQLITE_IOERR_FSYNC;
                }
                return (methods(real).xSync.expect("xSync"))(real, flags);
            };
            if disk.tick() {
                return ffi::SQLITE_IOERR_FSYNC;
            }
            disk.stats.syncs += 1;
            if !disk.sync_honoured {
                return ffi::SQLITE_OK;
            }
            if let Some(overlay) = disk.dirty.get(&path) {
                if let Err(rc) = overlay.apply(real) {
                    return rc;
                }
            }
            let rc = (methods(real).xSync.expect("xSync"))(real, flags);
            if rc == ffi::SQLITE_OK {
                disk.dirty.remove(&path);
            }
            rc
        }
    })
}

unsafe extern "C" fn f_file_size(file: *mut ffi::sqlite3_file, out: *mut ffi::sqlite3_int64) -> c_int {
    guard(ffi::SQLITE_IOERR_FSTAT, || {
        // SAFETY: `file` is open and `out` writable (SQLite's contract); the disk lock is held.
        unsafe {
            let (this, id, real) = parts(file);
            let disk = this.disk();
            if disk.powered_off {
                return ffi::SQLITE_IOERR_FSTAT;
            }
            let overlay = disk.open.get(&id).and_then(|f| f.path.as_ref()).and_then(|p| disk.dirty.get(p));
            match overlay {
                Some(o) => {
                    *out = i64::try_from(o.size).unwrap_or(i64::MAX);
                    ffi::SQLITE_OK
                }
                None => (methods(real).xFileSize.expect("xFileSize"))(real, out),
            }
        }
    })
}

/// Forwards a method that neither reads nor writes file contents (locks, shared memory, sector
/// size), under the disk lock, also after a power cut: the dead connection must still be able to
/// let go of its locks.
///
/// # Safety
/// `file` must be open through [`x_open`].
unsafe fn forward<R>(
    file: *mut ffi::sqlite3_file,
    call: impl FnOnce(*mut ffi::sqlite3_file, &ffi::sqlite3_io_methods) -> R,
) -> R {
    // SAFETY: per the contract.
    let (this, _, real) = unsafe { parts(file) };
    let _disk = this.disk();
    // SAFETY: `real` is the open unix file behind `file`.
    call(real, unsafe { methods(real) })
}

unsafe extern "C" fn f_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: `file` is open (SQLite's contract); unix provides xLock.
    guard(ffi::SQLITE_IOERR_LOCK, || unsafe {
        forward(file, |real, m| (m.xLock.expect("xLock"))(real, level))
    })
}

unsafe extern "C" fn f_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: `file` is open (SQLite's contract); unix provides xUnlock.
    guard(ffi::SQLITE_IOERR_UNLOCK, || unsafe {
        forward(file, |real, m| (m.xUnlock.expect("xUnlock"))(real, level))
    })
}

unsafe extern "C" fn f_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: `file` is open and `out` writable (SQLite's contract).
    guard(ffi::SQLITE_IOERR_CHECKRESERVEDLOCK, || unsafe {
        forward(file, |real, m| (m.xCheckReservedLock.expect("xCheckReservedLock"))(real, out))
    })
}

unsafe extern "C" fn f_file_control(file: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    guard(ffi::SQLITE_NOTFOUND, || {
        // A size hint would grow the real file behind the overlay's back, and memory-mapped reads
        // would bypass it: both are declined (SQLite treats them as optional).
        if op == ffi::SQLITE_FCNTL_SIZE_HINT || op == ffi::SQLITE_FCNTL_MMAP_SIZE {
            return ffi::SQLITE_NOTFOUND;
        }
        // SAFETY: `file` is open; `arg` is as SQLite documents for `op`, forwarded unchanged.
        unsafe { forward(file, |real, m| (m.xFileControl.expect("xFileControl"))(real, op, arg)) }
    })
}

unsafe extern "C" fn f_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: `file` is open (SQLite's contract).
    guard(4096, || unsafe { forward(file, |real, m| (m.xSectorSize.expect("xSectorSize"))(real)) })
}

unsafe extern "C" fn f_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // Only "power-safe overwrite" is kept: the overlay keeps the bytes of a block that were not
    // written, so a torn block never damages them. No atomic or sequential-write claims.
    // SAFETY: `file` is open (SQLite's contract).
    guard(0, || unsafe {
        forward(file, |real, m| (m.xDeviceCharacteristics.expect("xDeviceCharacteristics"))(real))
            & ffi::SQLITE_IOCAP_POWERSAFE_OVERWRITE
    })
}

unsafe extern "C" fn f_shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: `file` is open and `out` writable (SQLite's contract); unix io methods are v3.
    guard(ffi::SQLITE_IOERR_SHMMAP, || unsafe {
        forward(file, |real, m| (m.xShmMap.expect("xShmMap"))(real, region, size, extend, out))
    })
}

unsafe extern "C" fn f_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: `file` is open (SQLite's contract); unix io methods are v3.
    guard(ffi::SQLITE_IOERR_SHMLOCK, || unsafe {
        forward(file, |real, m| (m.xShmLock.expect("xShmLock"))(real, offset, n, flags))
    })
}

unsafe extern "C" fn f_shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: `file` is open (SQLite's contract); unix io methods are v3.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        forward(file, |real, m| (m.xShmBarrier.expect("xShmBarrier"))(real))
    }));
}

unsafe extern "C" fn f_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: `file` is open (SQLite's contract); unix io methods are v3.
    guard(ffi::SQLITE_IOERR_SHMMAP, || unsafe {
        forward(file, |real, m| (m.xShmUnmap.expect("xShmUnmap"))(real, delete))
    })
}

unsafe extern "C" fn f_fetch(
    _file: *mut ffi::sqlite3_file,
    _off: ffi::sqlite3_int64,
    _amt: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // Never map: SQLite then reads through xRead, which sees the overlay.
    // SAFETY: `out` is writable (SQLite's contract).
    unsafe { *out = ptr::null_mut() };
    ffi::SQLITE_OK
}

unsafe extern "C" fn f_unfetch(
    _file: *mut ffi::sqlite3_file,
    _off: ffi::sqlite3_int64,
    _p: *mut c_void,
) -> c_int {
    ffi::SQLITE_OK
}

// ---- Direct access, for tests of the VFS itself --------------------------------------------------

/// A file opened straight through a [`CrashVfs`] (as the main database), closed on drop.
pub struct RawFile {
    /// The `sqlite3_file` memory (szOsFile bytes, 8-aligned).
    mem: Box<[u64]>,
    open: bool,
}

impl RawFile {
    fn file(&mut self) -> *mut ffi::sqlite3_file {
        self.mem.as_mut_ptr().cast()
    }

    fn methods(&mut self) -> &'static ffi::sqlite3_io_methods {
        assert!(self.open, "file closed");
        &IO_METHODS
    }

    /// Reads `len` bytes at `off`: `Ok` with the bytes (zero-filled past the end, as SQLite
    /// expects) or the SQLite error code; a short read is `Ok`.
    pub fn read(&mut self, off: u64, len: usize) -> Result<Vec<u8>, c_int> {
        let mut buf = vec![0_u8; len];
        let read = self.methods().xRead.expect("xRead");
        // SAFETY: the file is open and `buf` valid for `len` bytes.
        let rc = unsafe { read(self.file(), buf.as_mut_ptr().cast(), len as c_int, off as i64) };
        match rc {
            ffi::SQLITE_OK | ffi::SQLITE_IOERR_SHORT_READ => Ok(buf),
            rc => Err(rc),
        }
    }

    pub fn write(&mut self, off: u64, data: &[u8]) -> Result<(), c_int> {
        let write = self.methods().xWrite.expect("xWrite");
        // SAFETY: the file is open and `data` valid for its length.
        check(unsafe { write(self.file(), data.as_ptr().cast(), data.len() as c_int, off as i64) })
    }

    pub fn truncate(&mut self, size: u64) -> Result<(), c_int> {
        let truncate = self.methods().xTruncate.expect("xTruncate");
        // SAFETY: the file is open.
        check(unsafe { truncate(self.file(), size as i64) })
    }

    pub fn sync(&mut self) -> Result<(), c_int> {
        let sync = self.methods().xSync.expect("xSync");
        // SAFETY: the file is open.
        check(unsafe { sync(self.file(), ffi::SQLITE_SYNC_NORMAL) })
    }

    pub fn size(&mut self) -> Result<u64, c_int> {
        let file_size = self.methods().xFileSize.expect("xFileSize");
        let mut size = 0;
        // SAFETY: the file is open; `size` is writable.
        check(unsafe { file_size(self.file(), &mut size) })?;
        Ok(size as u64)
    }

    pub fn close(mut self) -> c_int {
        self.close_inner()
    }

    fn close_inner(&mut self) -> c_int {
        if !self.open {
            return ffi::SQLITE_OK;
        }
        self.open = false;
        let close = IO_METHODS.xClose.expect("xClose");
        // SAFETY: the file is open, and is closed exactly once (`open` is now false).
        unsafe { close(self.file()) }
    }
}

impl Drop for RawFile {
    fn drop(&mut self) {
        self.close_inner();
    }
}
