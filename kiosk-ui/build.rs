//! Compiles the .slint screens into Rust, with the zh-CN catalogue bundled and element ids kept
//! in debug builds (the UI tests find elements by id).
//!
//! The catalogue is the workspace's one `.po` (crates/catalogue); Slint looks for
//! `<dir>/<lang>/LC_MESSAGES/<this crate's name>.po`, hence its file name.
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("../crates/catalogue/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(std::env::var("PROFILE").as_deref() == Ok("debug"));
    slint_build::compile_with_config("ui/app.slint", config).expect("the .slint screens compile");
}
