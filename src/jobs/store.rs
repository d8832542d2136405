//! JSON-array files shared between processes: read whole, changed under an
//! exclusive advisory lock, replaced atomically.
//!
//! - Writes go to a temp file in the same directory, are synced, then renamed
//!   over the target: a reader sees the old array or the new one, never half.
//! - [`JsonStore::update`] holds an exclusive lock on a sidecar `<file>.lock`
//!   (`flock`, via `std::fs::File::lock`) across read, change and write, so
//!   concurrent processes never lose each other's updates. The lock file is
//!   never removed (removing it would let two writers lock different inodes).
//! - A missing file is an empty array; anything that is not a JSON array of
//!   objects (including an empty file) is [`Error::Corrupt`] naming the file.
//! - A record that does not deserialise (missing field, wrong type) is kept
//!   verbatim as an [`InvalidRecord`]: it is an error for that record only,
//!   and it survives rewrites.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{Error, Result};

/// A record with an id: a queue job or a status entry.
pub trait Record: Serialize + DeserializeOwned {
    /// Its unique id.
    fn id(&self) -> &str;
}

/// A record that did not deserialise, kept as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidRecord {
    /// Its position in the file's array.
    pub index: usize,
    /// Its `id`, when it has a string one.
    pub id: Option<String>,
    /// Why it is invalid (serde's words: `missing field \`commands\``).
    pub reason: String,
    /// The record as read.
    pub raw: Value,
}

#[derive(Debug, Clone)]
enum Entry<T> {
    Valid(T),
    Invalid(InvalidRecord),
}

/// The records of one file, in file order.
#[derive(Debug, Clone)]
pub struct Records<T> {
    path: PathBuf,
    entries: Vec<Entry<T>>,
}

impl<T: Record> Records<T> {
    /// The valid records.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Valid(t) => Some(t),
            Entry::Invalid(_) => None,
        })
    }

    /// The valid records, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.entries.iter_mut().filter_map(|e| match e {
            Entry::Valid(t) => Some(t),
            Entry::Invalid(_) => None,
        })
    }

    /// The records that did not deserialise.
    pub fn invalid(&self) -> impl Iterator<Item = &InvalidRecord> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Invalid(r) => Some(r),
            Entry::Valid(_) => None,
        })
    }

    /// Each invalid record as an error naming the file, index and id.
    pub fn errors(&self) -> Vec<Error> {
        self.invalid().map(|r| self.invalid_error(r)).collect()
    }

    fn invalid_error(&self, r: &InvalidRecord) -> Error {
        let source = serde_json::from_value::<T>(r.raw.clone())
            .err()
            .unwrap_or_else(|| serde::de::Error::custom(&r.reason));
        Error::InvalidRecord {
            path: self.path.clone(),
            index: r.index,
            id: r.id.clone(),
            source,
        }
    }

    /// How many records, valid or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no records at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, id: &str) -> Result<usize> {
        if let Some(i) = self
            .entries
            .iter()
            .position(|e| matches!(e, Entry::Valid(t) if t.id() == id))
        {
            return Ok(i);
        }
        match self.invalid().find(|r| r.id.as_deref() == Some(id)) {
            Some(r) => Err(self.invalid_error(r)),
            None => Err(Error::UnknownJob { id: id.to_string() }),
        }
    }

    /// The record with this id; [`Error::UnknownJob`] when there is none,
    /// [`Error::InvalidRecord`] when it exists but is broken.
    pub fn get(&self, id: &str) -> Result<&T> {
        let i = self.position(id)?;
        match &self.entries[i] {
            Entry::Valid(t) => Ok(t),
            Entry::Invalid(_) => unreachable!("position returns valid entries"),
        }
    }

    /// The record with this id, mutably (errors as [`Records::get`]).
    pub fn get_mut(&mut self, id: &str) -> Result<&mut T> {
        let i = self.position(id)?;
        match &mut self.entries[i] {
            Entry::Valid(t) => Ok(t),
            Entry::Invalid(_) => unreachable!("position returns valid entries"),
        }
    }

    /// Appends a record; [`Error::DuplicateJob`] when its id is taken.
    pub fn insert(&mut self, record: T) -> Result<()> {
        let taken = self.iter().any(|t| t.id() == record.id())
            || self.invalid().any(|r| r.id.as_deref() == Some(record.id()));
        if taken {
            return Err(Error::DuplicateJob {
                id: record.id().to_string(),
            });
        }
        self.entries.push(Entry::Valid(record));
        Ok(())
    }

    /// Replaces the record with the same id, or appends it.
    pub fn upsert(&mut self, record: T) {
        match self.position(record.id()) {
            Ok(i) => self.entries[i] = Entry::Valid(record),
            Err(_) => {
                // a broken record with this id is replaced by the good one
                self.entries.retain(
                    |e| !matches!(e, Entry::Invalid(r) if r.id.as_deref() == Some(record.id())),
                );
                self.entries.push(Entry::Valid(record));
            }
        }
    }

    /// Removes and returns the record with this id (a broken one is removed
    /// too, and reported as [`Error::InvalidRecord`]).
    pub fn remove(&mut self, id: &str) -> Result<T> {
        match self.position(id) {
            Ok(i) => match self.entries.remove(i) {
                Entry::Valid(t) => Ok(t),
                Entry::Invalid(_) => unreachable!("position returns valid entries"),
            },
            Err(e) => {
                self.entries
                    .retain(|e| !matches!(e, Entry::Invalid(r) if r.id.as_deref() == Some(id)));
                Err(e)
            }
        }
    }

    /// Keeps the valid records for which `keep` is true (invalid ones stay).
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.entries.retain(|e| match e {
            Entry::Valid(t) => keep(t),
            Entry::Invalid(_) => true,
        });
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let values: Vec<Value> =
            serde_json::from_slice(bytes).map_err(|source| Error::Corrupt {
                path: path.to_path_buf(),
                source,
            })?;
        let entries = values
            .into_iter()
            .enumerate()
            .map(
                |(index, raw)| match serde_json::from_value::<T>(raw.clone()) {
                    Ok(t) => Entry::Valid(t),
                    Err(e) => Entry::Invalid(InvalidRecord {
                        index,
                        id: raw.get("id").and_then(Value::as_str).map(str::to_string),
                        reason: e.to_string(),
                        raw,
                    }),
                },
            )
            .collect();
        Ok(Records {
            path: path.to_path_buf(),
            entries,
        })
    }

    fn to_json(&self) -> Result<Vec<u8>> {
        let values = self
            .entries
            .iter()
            .map(|e| match e {
                Entry::Valid(t) => serde_json::to_value(t).map_err(Error::Serialize),
                Entry::Invalid(r) => Ok(r.raw.clone()),
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out = serde_json::to_vec_pretty(&values).map_err(Error::Serialize)?;
        out.push(b'\n');
        Ok(out)
    }
}

/// One JSON-array file of records of type `T`.
#[derive(Debug, Clone)]
pub struct JsonStore<T> {
    path: PathBuf,
    _records: PhantomData<fn() -> T>,
}

impl<T: Record> JsonStore<T> {
    /// The store at `path` (nothing is touched until used).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonStore {
            path: path.into(),
            _records: PhantomData,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    fn io(&self, action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    fn lock(&self, exclusive: bool) -> Result<File> {
        let lock_path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(self.io("opening the lock file", &lock_path))?;
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.map_err(self.io("locking", &lock_path))?;
        Ok(file)
    }

    fn read(&self) -> Result<Records<T>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Records::parse(&self.path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Records {
                path: self.path.clone(),
                entries: Vec::new(),
            }),
            Err(e) => Err(self.io("reading", &self.path)(e)),
        }
    }

    /// Reads the file (under a shared lock, so never mid-update).
    pub fn load(&self) -> Result<Records<T>> {
        let _lock = self.lock(false)?;
        self.read()
    }

    /// Read, change, write, all under the exclusive lock: the change sees
    /// every earlier update and no other writer can slip in between. When
    /// `change` fails, nothing is written.
    pub fn update<R>(&self, change: impl FnOnce(&mut Records<T>) -> Result<R>) -> Result<R> {
        let _lock = self.lock(true)?;
        let mut records = self.read()?;
        let result = change(&mut records)?;
        self.write(&records)?;
        Ok(result)
    }

    fn write(&self, records: &Records<T>) -> Result<()> {
        let bytes = records.to_json()?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .map_err(self.io("creating a temp file for", &self.path))?;
        tmp.write_all(&bytes)
            .and_then(|()| {
                // keep the file's mode (a new one gets 0644, not 0600)
                let mode = std::fs::metadata(&self.path)
                    .map(|m| m.permissions())
                    .unwrap_or_else(|_| std::os::unix::fs::PermissionsExt::from_mode(0o644));
                tmp.as_file().set_permissions(mode)?;
                tmp.as_file().sync_all()
            })
            .map_err(self.io("writing", tmp.path()))?;
        tmp.persist(&self.path)
            .map_err(|e| self.io("replacing", &self.path)(e.error))?;
        Ok(())
    }
}
