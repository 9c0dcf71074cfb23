#include "pgcopy/copy_sql.h"

#include <cctype>
#include <fmt/core.h>
#include <optional>
#include <vector>

#include "base/strings.h"

namespace tether::pgcopy {
namespace {

// A token of the options text: a bare word (upper-cased) or a string literal's value.
struct Token {
  bool literal = false;
  std::string text;
};

// Splits legacy COPY options ("CSV NULL '' QUOTE AS '|'") into words and string literals.
Result<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',') {
      ++i;
      continue;
    }
    bool e_string = (c == 'E' || c == 'e') && i + 1 < s.size() && s[i + 1] == '\'';
    if (c == '\'' || e_string) {
      i += e_string ? 2 : 1;
      Token t{true, ""};
      while (true) {
        if (i >= s.size()) return invalid(fmt::format("-copy-options: unterminated string in \"{}\"", s));
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
          t.text += '\'';
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else if (e_string && s[i] == '\\' && i + 1 < s.size()) {
          char n = s[i + 1];
          t.text += n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n;
          i += 2;
        } else {
          t.text += s[i++];
        }
      }
      out.push_back(std::move(t));
      continue;
    }
    Token t;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '\'' && s[i] != ',')
      t.text += static_cast<char>(std::toupper(static_cast<unsigned char>(s[i++])));
    out.push_back(std::move(t));
  }
  return out;
}

// The one-character literal after KEYWORD [AS] in the options, if present.
Result<std::optional<char>> option_char(const std::vector<Token>& toks, std::string_view keyword) {
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].literal || toks[i].text != keyword) continue;
    size_t v = i + 1;
    if (v < toks.size() && !toks[v].literal && toks[v].text == "AS") ++v;
    if (v >= toks.size() || !toks[v].literal || toks[v].text.size() != 1)
      return invalid(fmt::format("-copy-options: {} needs a one-character string", keyword));
    return std::optional<char>(toks[v].text[0]);
  }
  return std::optional<char>();
}

bool has_word(const std::vector<Token>& toks, std::string_view word) {
  for (const auto& t : toks)
    if (!t.literal && t.text == word) return true;
  return false;
}

Result<std::optional<char>> flag_char(const std::string& value, const char* flag) {
  if (value.empty()) return std::optional<char>();
  if (value.size() != 1) return invalid(fmt::format("-{} must be a single-byte character, got \"{}\"", flag, value));
  return std::optional<char>(value[0]);
}

// Wraps s in q, doubling every q inside: SQL's rule for both literals and identifiers.
std::string wrap(char q, std::string_view s) {
  std::string out(1, q);
  for (char c : s) {
    out += c;
    if (c == q) out += q;
  }
  out += q;
  return out;
}

std::string sql_literal(std::string_view s) { return wrap('\'', s); }
std::string quote_ident(std::string_view s) { return wrap('"', s); }

}  // namespace

Result<CopySettings> copy_settings(const Options& o) {
  auto toks = TRY(tokenize(o.copy_options));
  if (has_word(toks, "HEADER"))
    return invalid("'HEADER' detected in -copy-options. If you were using 'HEADER' with PostgreSQL COPY, use: -skip-header");
  if (has_word(toks, "BINARY")) return invalid("-copy-options: BINARY input cannot be split into batches; use CSV or text");
  if (o.split != "\\t" && o.split.size() != 1)
    return invalid(fmt::format("-split must be a single-byte character or \\t, got \"{}\"", o.split));
  CopySettings s;
  s.format = has_word(toks, "CSV") ? CopyFormat::kCsv : CopyFormat::kText;
  auto quote = TRY(flag_char(o.quote, "quote"));
  auto escape = TRY(flag_char(o.escape, "escape"));
  if (!quote) quote = TRY(option_char(toks, "QUOTE"));
  if (!escape) escape = TRY(option_char(toks, "ESCAPE"));
  s.quote = quote.value_or('"');
  s.escape = escape.value_or(s.quote);
  return s;
}

std::string full_table_name(const Options& o) { return quote_ident(o.schema) + "." + quote_ident(o.table); }

std::string copy_statement(const Options& o) {
  std::string delim = o.split == "\\t" ? "E'\\t'" : sql_literal(o.split);
  std::string sql = "COPY " + full_table_name(o);
  if (!o.columns.empty()) sql += "(" + o.columns + ")";
  sql += " FROM STDIN WITH DELIMITER " + delim;
  if (!o.quote.empty()) sql += " QUOTE " + sql_literal(o.quote);
  if (!o.escape.empty()) sql += " ESCAPE " + sql_literal(o.escape);
  if (!o.copy_options.empty()) sql += " " + o.copy_options;
  return sql;
}

}  // namespace tether::pgcopy
