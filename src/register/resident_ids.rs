//! Resident ids (宛名番号) held compactly, for the two questions an import of a whole
//! register asks of a million ids: which ids does the file give to more than one row, and
//! is this person already in the register. A `HashMap<String, _>` spends about a hundred
//! bytes on each id; here the ids lie end to end in one string, and each entry (sorted by a
//! hash of its id) points into it, so a million ids take some tens of megabytes.

use std::hash::{BuildHasher, RandomState};

/// Ids with a value each. Push them all, [`seal`](ResidentIds::seal), then look them up.
pub(crate) struct ResidentIds<T> {
    text: String,
    entries: Vec<Entry<T>>,
    hasher: RandomState,
    sealed: bool,
}

struct Entry<T> {
    hash: u64,
    start: usize,
    len: usize,
    value: T,
}

impl<T> ResidentIds<T> {
    pub fn new() -> ResidentIds<T> {
        ResidentIds {
            text: String::new(),
            entries: Vec::new(),
            hasher: RandomState::new(),
            sealed: true,
        }
    }

    pub fn push(&mut self, id: &str, value: T) {
        self.entries.push(Entry {
            hash: self.hasher.hash_one(id),
            start: self.text.len(),
            len: id.len(),
            value,
        });
        self.text.push_str(id);
        self.sealed = false;
    }

    /// Orders the entries for lookups: by hash, then by id, so that equal ids lie side by
    /// side, then in the order they were pushed.
    pub fn seal(&mut self) {
        let text = &self.text;
        let id = |e: &Entry<T>| &text[e.start..e.start + e.len];
        self.entries.sort_unstable_by(|a, b| {
            a.hash
                .cmp(&b.hash)
                .then_with(|| id(a).cmp(id(b)))
                .then(a.start.cmp(&b.start))
        });
        self.sealed = true;
    }

    fn id(&self, entry: &Entry<T>) -> &str {
        &self.text[entry.start..entry.start + entry.len]
    }

    /// The value of the first entry pushed with `id`.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        debug_assert!(self.sealed, "looked up before seal()");
        let hash = self.hasher.hash_one(id);
        let from = self.entries.partition_point(|e| e.hash < hash);
        let found = self.entries[from..]
            .iter()
            .take_while(|e| e.hash == hash)
            .position(|e| self.id(e) == id)?;
        Some(&mut self.entries[from + found].value)
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.entries.iter().map(|e| (self.id(e), &e.value))
    }

    /// Each id pushed more than once, with its values in the order they were pushed.
    pub fn repeated(&self) -> impl Iterator<Item = (&str, Vec<&T>)> {
        debug_assert!(self.sealed, "grouped before seal()");
        self.entries
            .chunk_by(|a, b| a.hash == b.hash && self.id(a) == self.id(b))
            .filter(|group| group.len() > 1)
            .map(|group| {
                let values = group.iter().map(|e| &e.value).collect();
                (self.id(&group[0]), values)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_and_repeats_are_grouped_in_push_order() {
        let mut ids = ResidentIds::new();
        for (id, line) in [
            ("A1", 2),
            ("B2", 3),
            ("A1", 4),
            ("", 5),
            ("C3", 6),
            ("A1", 7),
        ] {
            ids.push(id, line);
        }
        ids.push("B2", 8);
        ids.seal();
        assert_eq!(ids.get_mut("C3"), Some(&mut 6), "a single id");
        assert_eq!(
            ids.get_mut("A1"),
            Some(&mut 2),
            "the first of a repeated id"
        );
        assert_eq!(ids.get_mut(""), Some(&mut 5), "the empty id is an id");
        assert_eq!(ids.get_mut("A"), None, "a prefix is another id");
        let mut repeated: Vec<(String, Vec<i32>)> = ids
            .repeated()
            .map(|(id, lines)| (id.to_owned(), lines.into_iter().copied().collect()))
            .collect();
        repeated.sort();
        assert_eq!(
            repeated,
            [
                ("A1".to_owned(), vec![2, 4, 7]),
                ("B2".to_owned(), vec![3, 8])
            ],
            "each repeated id with its lines in file order"
        );
        assert_eq!(ids.iter().count(), 7, "every entry");
    }

    #[test]
    fn values_can_be_changed_in_place() {
        let mut ids = ResidentIds::new();
        ids.push("X", false);
        ids.push("Y", false);
        ids.seal();
        *ids.get_mut("Y").unwrap() = true;
        let named: Vec<&str> = ids.iter().filter(|(_, v)| **v).map(|(id, _)| id).collect();
        assert_eq!(named, ["Y"], "only Y changed");
    }
}
