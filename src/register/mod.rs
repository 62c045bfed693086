//! The support-needed register (避難行動要支援者名簿): the municipality's CSV imported
//! (`import` parses, `commit` writes, `resident_ids` holds the ids both compare), who may
//! see whom (`visibility`, `disclosure`), reading it (`persons`), and safety confirmation
//! per activation (`safety`). Every read of a person and every import is in the audit log.

pub mod commit;
pub mod disclosure;
pub mod import;
pub mod paper;
pub mod persons;
mod resident_ids;
mod routes;
pub mod safety;
pub mod visibility;

pub(crate) use routes::read_upload;
pub use routes::{encoding_choice, router};
