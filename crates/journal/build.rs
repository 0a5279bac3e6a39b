//! `sqlx::migrate!` embeds `migrations/` at compile time but cannot see a newly added file;
//! this makes Cargo rebuild the crate whenever that folder changes.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
