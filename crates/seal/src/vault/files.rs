//! Every file operation the vault makes, one step each: create, write, fsync,
//! rename, remove, directory sync and reads. They go through `Files` so that
//! the tests can make any single step fail (`Failpoint`, compiled only for
//! tests) and check that a commit failing there loses nothing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    Write,
    SyncFile,
    Rename,
    Remove,
    SyncDir,
    Read,
    List,
}

#[derive(Default)]
pub struct Files {
    #[cfg(test)]
    pub failpoint: failpoint::Failpoint,
}

impl Files {
    /// Where a test's failpoint may fail the step about to run.
    #[inline]
    fn step(&self, step: Step) -> io::Result<()> {
        #[cfg(test)]
        self.failpoint.check(step)?;
        let _ = step;
        Ok(())
    }

    /// Writes `bytes` to a new file at `path` and flushes it to disk. The file
    /// must not exist: an existing name (or a planted symlink) is an error.
    pub fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.step(Step::Create)?;
        let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
        self.step(Step::Write)?;
        file.write_all(bytes)?;
        self.step(Step::SyncFile)?;
        file.sync_all()
    }

    pub fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.step(Step::Rename)?;
        fs::rename(from, to)
    }

    /// Removes `path`; a file that is already gone counts as removed.
    pub fn remove(&self, path: &Path) -> io::Result<()> {
        self.step(Step::Remove)?;
        match fs::remove_file(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Makes the creations, renames and removals in `dir` durable.
    pub fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.step(Step::SyncDir)?;
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    }

    /// The whole file, or `None` if there is none.
    pub fn read_if_exists(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        self.step(Step::Read)?;
        match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.step(Step::Read)?;
        fs::read(path)
    }

    pub fn len(&self, path: &Path) -> io::Result<u64> {
        self.step(Step::Read)?;
        Ok(fs::metadata(path)?.len())
    }

    pub fn read_range(&self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.step(Step::Read)?;
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut out = vec![0u8; len];
        file.read_exact(&mut out)?;
        Ok(out)
    }

    /// The names in `dir` (names that are not UTF-8 are never the vault's).
    pub fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.step(Step::List)?;
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }
}

#[cfg(test)]
pub mod failpoint {
    use std::cell::{Cell, RefCell};
    use std::io;

    use super::Step;

    /// Counts the steps and fails the one with index `fail_at` (or, with
    /// `sticky`, that one and every later one: a file system that stays broken).
    #[derive(Default)]
    pub struct Failpoint {
        fail_at: Cell<Option<usize>>,
        sticky: Cell<bool>,
        pub log: RefCell<Vec<Step>>,
    }

    impl Failpoint {
        pub fn arm(&self, fail_at: usize, sticky: bool) {
            self.fail_at.set(Some(fail_at));
            self.sticky.set(sticky);
            self.log.borrow_mut().clear();
        }

        pub fn disarm(&self) {
            self.fail_at.set(None);
        }

        pub fn check(&self, step: Step) -> io::Result<()> {
            let index = self.log.borrow().len();
            self.log.borrow_mut().push(step);
            match self.fail_at.get() {
                Some(at) if index == at || (self.sticky.get() && index > at) => Err(
                    io::Error::other(format!("injected failure at step {index} ({step:?})")),
                ),
                _ => Ok(()),
            }
        }
    }
}
