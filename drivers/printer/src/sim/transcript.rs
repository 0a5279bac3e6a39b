//! What the simulated printer put on paper: one [`Transcript`] per receipt (split on cut).

use crate::layout::Align;
use serde::{Deserialize, Serialize};

/// One printed element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    /// A line of text.
    Line {
        /// Text, UTF-8.
        text: String,
        /// Alignment in force.
        align: Align,
        /// Emphasis in force.
        bold: bool,
    },
    /// A QR symbol and its data.
    Qr(String),
    /// A 1-D barcode and its data.
    Barcode(String),
    /// A raster image (not rendered).
    Raster {
        /// Width in dots.
        width: u32,
        /// Height in dots.
        height: u32,
    },
}

/// One receipt as printed.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Transcript {
    /// What was printed, top to bottom.
    pub items: Vec<Item>,
    /// Ended with a cut.
    pub cut: bool,
    /// Paper ran out (or the cover opened) while it printed: the customer got a torn receipt.
    pub torn: bool,
}

impl Transcript {
    /// Plain text: lines as printed, `[QR] data` and `[BARCODE] data` for symbols.
    pub fn text(&self) -> String {
        self.items
            .iter()
            .map(|i| match i {
                Item::Line { text, .. } => text.clone(),
                Item::Qr(d) => format!("[QR] {d}"),
                Item::Barcode(d) => format!("[BARCODE] {d}"),
                Item::Raster { width, height } => format!("[RASTER {width}x{height}]"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The data of every QR symbol, in order.
    pub fn qr_payloads(&self) -> Vec<&str> {
        self.items.iter().filter_map(|i| if let Item::Qr(d) = i { Some(d.as_str()) } else { None }).collect()
    }

    /// Nothing printed.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
