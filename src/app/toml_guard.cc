#include "app/toml_guard.h"

#include <cstdio>
#include <stdexcept>

#include "common/strings.h"

namespace nohype::app {

namespace {

bool ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Walks the text the way TOML's lexer splits it: comments, the four kinds of
// strings, and everything else. It does not validate: where the text is not
// TOML, toml++ still refuses the ASCII text this makes of it.
class Scan {
 public:
  explicit Scan(std::string_view s) : s_(s) {}

  std::string run() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '#') {
        comment();
      } else if (c == '"') {
        basic();
      } else if (c == '\'') {
        literal();
      } else if (!ascii(c)) {
        fail("a non-ASCII character outside a quoted string or comment");
      } else {
        out_ += c;
        step();
      }
    }
    return out_;
  }

 private:
  std::string_view s_;
  std::string out_;
  size_t i_ = 0, line_ = 1, col_ = 1;

  void step() {
    if (s_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else if (ascii(s_[i_]) || (static_cast<unsigned char>(s_[i_]) & 0xc0) != 0x80) {
      ++col_;  // columns count characters, not UTF-8 continuation bytes
    }
    ++i_;
  }
  void copy(size_t n) {
    for (size_t k = 0; k < n && i_ < s_.size(); ++k) {
      out_ += s_[i_];
      step();
    }
  }
  bool starts(std::string_view w) const { return s_.substr(i_, w.size()) == w; }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("line " + std::to_string(line_) + ", column " + std::to_string(col_) + ": " + what);
  }

  // Consumes the UTF-8 character at i_ (well-formed: the caller checked)
  // and returns its code point.
  uint32_t code_point() {
    auto u = decode_utf8(s_, i_);
    if (!u) fail("a byte that is not UTF-8");  // unreachable after the check, but never read past it
    for (size_t k = 0; k < u->length; ++k) step();
    return u->code_point;
  }
  void escape(uint32_t cp) {
    char buf[16];
    snprintf(buf, sizeof buf, cp <= 0xffff ? "\\u%04X" : "\\U%08X", static_cast<unsigned>(cp));
    out_ += buf;
  }

  void comment() {
    while (i_ < s_.size() && s_[i_] != '\n') {
      if (ascii(s_[i_])) {
        copy(1);
      } else {
        code_point();
        out_ += '?';
      }
    }
  }

  void basic() {
    bool multi = starts(R"(""")");
    copy(multi ? 3 : 1);
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (multi ? starts(R"(""")") : c == '"') {
        copy(multi ? 3 : 1);
        return;
      }
      if (!multi && c == '\n') return;  // unterminated: toml++ stops here
      if (c == '\\') {
        copy(1);
        if (i_ >= s_.size()) return;
        if (!ascii(s_[i_])) fail("a non-ASCII character after a backslash");
        if (multi && blank(s_[i_])) {
          while (i_ < s_.size() && blank(s_[i_])) copy(1);  // a line-ending backslash
        } else {
          copy(1);  // the escaped character: \" and \\ close nothing
        }
        continue;
      }
      if (ascii(c)) {
        copy(1);
      } else {
        escape(code_point());
      }
    }
  }

  // A literal string without non-ASCII stays as it is; one with becomes the
  // basic string of the same value, since only those have escapes.
  void literal() {
    bool multi = starts("'''");
    size_t open = multi ? 3 : 1, start = i_ + open, end = start;
    for (;;) {
      if (end >= s_.size() || (!multi && s_[end] == '\n')) fail("a literal string that does not end");
      if (s_[end] == '\'' && (!multi || s_.substr(end, 3) == "'''")) break;
      ++end;
    }
    size_t close = 1;
    if (multi) {  // up to two more quotes belong to the content
      size_t run = 3;
      while (end + run < s_.size() && s_[end + run] == '\'') ++run;
      if (run > 5) fail("more than five quotes end a literal string");
      end += run - 3;
      close = 3;
    }
    std::string_view body = s_.substr(start, end - start);
    bool plain = true;
    for (char c : body) plain = plain && ascii(c);
    if (plain) {
      copy(end + close - i_);
      return;
    }
    const char* quote = multi ? R"(""")" : "\"";
    out_ += quote;
    for (size_t k = 0; k < open; ++k) step();
    while (i_ < end) {
      char c = s_[i_];
      if (!ascii(c)) {
        escape(code_point());
        continue;
      }
      if (c == '\\' || c == '"') out_ += '\\';
      copy(1);
    }
    out_ += quote;
    for (size_t k = 0; k < close; ++k) step();
  }
};

}  // namespace

std::string ascii_for_tomlpp(std::string_view text) { return Scan(text).run(); }

}  // namespace nohype::app
