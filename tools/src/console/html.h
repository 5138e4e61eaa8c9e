// HTML for the console and the register extract: escaping, the page layout (layout.html), and
// the texts in Swedish (the default) and English.
// Thread-safety: free functions over immutable data.
#pragma once

#include <string>
#include <string_view>

namespace stafett::tools::console {

// Escapes & < > " ' for text and attribute values.
std::string Escape(std::string_view text);

// The text for KEY in LANGUAGE ("sv" or "en"; anything else is Swedish). An unknown key is
// returned as itself, so a missing text shows rather than vanishes.
std::string Text(const std::string& language, std::string_view key);

// "sv" unless LANGUAGE is "en".
std::string NormaliseLanguage(std::string_view language);

struct Page {
  std::string language = "sv";
  std::string title;  // plain text
  std::string role;   // plain text
  std::string nav;    // HTML
  std::string main;   // HTML
};

// The whole document from layout.html.
std::string RenderPage(const Page& page);

}  // namespace stafett::tools::console
