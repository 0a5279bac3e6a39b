//! The console's words in Chinese (the default) and English. Every English text a page shows goes
//! through [`t`]; a test checks that each one the pages use has its Chinese.

/// The console's languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// From the `lang` cookie's value; Chinese unless it says English.
    pub fn from_cookie(value: Option<&str>) -> Lang {
        if value == Some("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// `english` in `lang`.
pub fn t(lang: Lang, english: &'static str) -> &'static str {
    match lang {
        Lang::En => english,
        Lang::Zh => WORDS.iter().find(|(en, _)| *en == english).map(|(_, zh)| *zh).unwrap_or(english),
    }
}

/// English, Chinese.
pub(crate) const WORDS: &[(&str, &str)] = &[
    ("Yizhan fleet console", "一站 终端运营台"),
    ("Fleet", "终端一览"),
    ("Alerts", "告警"),
    ("Payments", "支付查询"),
    ("Audit log", "审计日志"),
    ("New kiosk", "新增终端"),
    ("Sign out", "退出登录"),
    ("Sign in", "登录"),
    ("Operator", "操作员"),
    ("Password", "密码"),
    ("Wrong name or password.", "用户名或密码错误。"),
    ("Kiosk", "终端"),
    ("Hall", "网点"),
    ("State", "状态"),
    ("Last seen", "最后联系"),
    ("Paper", "凭条纸"),
    ("Cash box", "钱箱"),
    ("Suspense", "挂账"),
    ("Chain", "记录链"),
    ("in service", "服务中"),
    ("out of service", "暂停服务"),
    ("silent", "失联"),
    ("not paired", "未配对"),
    ("revoked", "已吊销"),
    ("never", "从未"),
    ("ok", "正常"),
    ("near end", "将尽"),
    ("out", "缺纸"),
    ("unknown", "未知"),
    ("intact", "完整"),
    ("broken", "已断开"),
    ("removed", "已取出"),
    ("full", "已满"),
    ("notes", "张"),
    ("Devices", "设备"),
    ("Device", "设备"),
    ("Health", "状况"),
    ("Detail", "说明"),
    ("Recent payments", "最近支付"),
    ("Order number", "订单号"),
    ("Time", "时间"),
    ("Service", "业务"),
    ("Account", "户号"),
    ("Amount", "金额"),
    ("Channel", "渠道"),
    ("Journal chain", "交易记录链"),
    ("transitions held", "条记录已入中心库"),
    ("verified up to", "已核验至"),
    ("Commands", "远程指令"),
    ("Take out of service", "暂停服务"),
    ("Reason", "原因"),
    ("Return to service", "恢复服务"),
    ("Request diagnostics", "请求诊断"),
    ("Queued", "已排队"),
    ("Delivered", "已下发"),
    ("Acknowledged", "已确认"),
    ("Result", "结果"),
    ("By", "操作人"),
    ("Revoke this kiosk", "吊销此终端"),
    ("Search", "查询"),
    ("No payment with this order number.", "没有此订单号的支付。"),
    ("From", "原状态"),
    ("To", "新状态"),
    ("Event", "事件"),
    ("Kind", "类型"),
    ("Subject", "对象"),
    ("Opened", "发生"),
    ("Occurrences", "次数"),
    ("Acknowledge", "确认"),
    ("acknowledged by", "确认人"),
    ("Open alerts", "未解除告警"),
    ("Cleared alerts", "已解除告警"),
    ("None.", "无。"),
    ("Kiosk id", "终端编号"),
    ("Create and show the pairing code", "创建并显示配对码"),
    ("Pairing code", "配对码"),
    (
        "Scan this QR at the kiosk's staff panel, or type the code there. It works once, for 24 hours.",
        "请在终端的工作人员面板扫描此二维码，或输入配对码。仅可使用一次，24小时内有效。",
    ),
    ("Actor", "操作人"),
    ("Action", "操作"),
    ("Target", "对象"),
    ("You may not do that.", "您没有此权限。"),
    ("The form expired; please try again.", "页面已过期，请重试。"),
    ("No such kiosk.", "没有此终端。"),
    ("Done.", "已完成。"),
    ("Software", "软件版本"),
    ("Disk free", "磁盘剩余"),
    ("paper_out", "缺纸"),
    ("paper_near_end", "凭条纸将尽"),
    ("device_fault", "设备故障"),
    ("suspense_old", "挂账超时"),
    ("cash_box_full", "钱箱已满"),
    ("cash_box_removed", "钱箱被取出"),
    ("disk_low", "磁盘空间不足"),
    ("chain_gap", "记录缺失"),
    ("chain_break", "记录被篡改"),
    ("chain_fork", "记录被改写"),
    ("rollback", "记录被回退"),
    ("journal_replaced", "交易记录被替换"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t(lang, "…")` in the console's sources has its Chinese, and no entry is there twice.
    #[test]
    fn every_word_the_pages_use_is_translated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with("i18n.rs") {
                continue;
            }
            let source = std::fs::read_to_string(path).unwrap();
            for piece in source.split("t(lang, \"").skip(1) {
                let english = &piece[..piece.find('"').unwrap()];
                if !WORDS.iter().any(|(en, _)| *en == english) {
                    missing.push(english.to_owned());
                }
            }
        }
        assert!(missing.is_empty(), "no Chinese for: {missing:?}");
        let mut seen = std::collections::HashSet::new();
        for (en, _) in WORDS {
            assert!(seen.insert(en), "{en:?} is listed twice");
        }
    }

    #[test]
    fn english_is_english_and_an_unknown_cookie_is_chinese() {
        assert_eq!(t(Lang::En, "Fleet"), "Fleet");
        assert_eq!(t(Lang::Zh, "Fleet"), "终端一览");
        assert_eq!(Lang::from_cookie(Some("fr")), Lang::Zh);
    }
}
