//! A real headless Chromium (Debian's `chromium` and `chromium-driver`), driven over the W3C
//! WebDriver protocol: a few JSON calls to chromedriver, made with reqwest.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("the console tests need Debian's chromium-driver (scripts/test.sh installs it)");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let reply: Value =
            http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver did not start a session: {reply}"))
            .to_owned();
        let browser =
            Browser { http, session: format!("{base}/session/{session}"), driver, _profile: profile };
        // Finding an element waits for it a while: a page may still be loading after a click.
        browser.call(reqwest::Method::POST, "/timeouts", Some(json!({ "implicit": 5_000 }))).await;
        browser
    }

    /// The text of `css` once it contains `needle` (after a click, the old page may still be
    /// there for a moment). Panics with the last text after ten seconds.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            let found = self
                .call(
                    reqwest::Method::POST,
                    "/elements",
                    Some(json!({ "using": "css selector", "value": css })),
                )
                .await;
            if let Some(id) = found.as_array().and_then(|a| a.first()).and_then(|e| e[ELEMENT].as_str()) {
                let text = self.http.get(format!("{}/element/{id}/text", self.session)).send().await.unwrap();
                let text: Value = text.json().await.unwrap();
                last = text["value"].as_str().unwrap_or_default().to_owned();
                if last.contains(needle) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {needle:?}; last: {last:?}");
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.unwrap().json().await.unwrap();
        if reply["value"].get("error").is_some() {
            panic!("WebDriver {path}: {}", reply["value"]);
        }
        reply["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_owned()
    }

    /// The page's HTML as the browser holds it.
    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap().to_owned()
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css })))
            .await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {found}")).to_owned()
    }

    /// The element at `css`, by the first one whose text contains `text`.
    async fn element_with_text(&self, css: &str, text: &str) -> String {
        let found = self
            .call(reqwest::Method::POST, "/elements", Some(json!({ "using": "css selector", "value": css })))
            .await;
        for e in found.as_array().unwrap() {
            let id = e[ELEMENT].as_str().unwrap().to_owned();
            let shown = self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None).await;
            if shown.as_str().unwrap_or_default().contains(text) {
                return id;
            }
        }
        panic!("no {css} with text {text:?}");
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text })))
            .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    /// Clicks the first `css` element (a button, a link) whose text contains `text`.
    pub async fn click_text(&self, css: &str, text: &str) {
        let id = self.element_with_text(css, text).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.element(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Scrolls the page so that the element at `css` is at the window's top.
    pub async fn scroll_to(&self, css: &str) {
        let script = "document.querySelector(arguments[0]).scrollIntoView(true)";
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [css] })))
            .await;
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap()
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

/// chromedriver (and the Chromium it started) ends with the test, passed or failed.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
