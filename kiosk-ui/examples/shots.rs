fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or("/tmp/shots".into()));
    let files = kiosk_ui::render_all::render_all(&out).unwrap();
    println!("{}", files.len());
}
