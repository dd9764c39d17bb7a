// CSV loader: a small hand-written parser with precise error messages (file:line:column and the
// column's name). Hand-written because Debian's CSV libraries lose them: libcsv (checked, 3.0.3)
// skips a blank line without a callback, so a blank line inside the data goes unreported and rows
// stop matching lines, and reports an error as a code and a byte count; fast-cpp-csv-parser (libfccp)
// reads into typed columns fixed at compile time. Quoting is RFC 4180's, within a line.
#include "ctnn/io/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

namespace ctnn::io {
namespace {

namespace fs = std::filesystem;

// The index of the first character at or after i that is not a space or a tab.
std::size_t skip_blanks(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The offending text in quotes, shortened if long.
std::string quoted(std::string_view s) {
  // (Built with append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.)
  constexpr std::size_t max_len = 40;
  std::string out;
  out.reserve(std::min(s.size(), max_len) + 5);
  out += '"';
  out.append(s.substr(0, max_len));
  if (s.size() > max_len) out += "...";
  out += '"';
  return out;
}

// Splits a line at its commas into trimmed fields. A field in double quotes (RFC 4180: spaces around
// the quotes allowed) may hold commas, and "" stands for one quote: such a field is unescaped into
// `owned` (stable addresses) and viewed there. Returns "" or what is wrong and sets `bad_field`
// (0-based): a quote left open at the end of the line (fields spanning lines are not supported) or
// text after a closing quote.
std::string split(std::string_view line, std::vector<std::string_view>& out, std::deque<std::string>& owned,
                  std::size_t& bad_field) {
  out.clear();
  owned.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t i = skip_blanks(line, start);
    if (i < line.size() && line[i] == '"') {
      bool doubled = false;
      std::size_t j = i + 1;
      for (;; ++j) {
        if (j >= line.size()) {
          bad_field = out.size();
          return "a quoted field is not closed on its line (a field spanning lines is not supported)";
        }
        if (line[j] != '"') continue;
        if (j + 1 < line.size() && line[j + 1] == '"') {
          doubled = true;
          ++j;
          continue;
        }
        break;  // the closing quote
      }
      std::string_view inside = line.substr(i + 1, j - i - 1);
      const std::size_t k = skip_blanks(line, j + 1);
      if (k < line.size() && line[k] != ',') {
        bad_field = out.size();
        return "text after the closing quote of a quoted field";
      }
      if (doubled) {
        std::string value;
        for (std::size_t q = 0; q < inside.size(); ++q) {
          value += inside[q];
          if (inside[q] == '"') ++q;  // "" -> "
        }
        inside = owned.emplace_back(std::move(value));
      }
      out.push_back(inside);
      if (k >= line.size()) return {};
      start = k + 1;
      continue;
    }
    const std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(trim(line.substr(start)));
      return {};
    }
    out.push_back(trim(line.substr(start, comma - start)));
    start = comma + 1;
  }
}

std::string read_whole_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw DataError(path + ": cannot open file (No such file or directory)", path);
  if (fs::is_directory(path, ec))
    throw DataError(path + ": cannot open file (Is a directory)", path);
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    throw DataError(path + ": cannot open file (" + (e ? std::strerror(e) : "unknown error") + ")",
                    path);
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::string text(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
  if (size > 0 && !in.read(text.data(), size))
    throw DataError(path + ": read error", path);
  return text;
}

Dataset load(const std::string& path, const std::string& label_column, bool label_required) {
  const std::string buffer = read_whole_file(path);
  std::string_view text = buffer;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM

  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw DataError(path + ": file is empty (expected a header row of column names)", path);

  std::size_t pos = 0, line_no = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    return true;
  };
  auto where = [&](std::size_t line) { return path + ":" + std::to_string(line); };

  // Header.
  std::string_view line;
  next_line(line);
  if (trim(line).empty())
    throw DataError(where(line_no) + ": blank header row (expected the column names)", path,
                    line_no);
  std::vector<std::string_view> fields;
  std::deque<std::string> owned;  // unescaped quoted fields
  std::size_t bad_field = 0;
  auto split_line = [&] {
    if (const std::string err = split(line, fields, owned, bad_field); !err.empty())
      throw DataError(where(line_no) + ":" + std::to_string(bad_field + 1) + ": " + err, path, line_no, bad_field + 1);
  };
  split_line();
  const std::size_t ncols = fields.size();
  std::size_t label_idx = ncols;
  for (std::size_t j = 0; j < ncols; ++j) {
    if (fields[j] != label_column) continue;
    if (label_idx != ncols)
      throw DataError(where(line_no) + ": column \"" + label_column + "\" appears twice (columns " +
                          std::to_string(label_idx + 1) + " and " + std::to_string(j + 1) + ")",
                      path, line_no, j + 1);
    label_idx = j;
  }
  if (label_idx == ncols && label_required) {
    std::string names;
    for (std::size_t j = 0; j < ncols && j < 8; ++j) names += (j ? ", " : "") + quoted(fields[j]);
    if (ncols > 8) names += ", ... (" + std::to_string(ncols) + " columns)";
    // A file without a header row: its first data row was read as the column names.
    const bool numbers = std::all_of(fields.begin(), fields.end(), [](std::string_view f) {
      double v = 0;
      const auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
      return !f.empty() && ec == std::errc() && ptr == f.data() + f.size();
    });
    throw DataError(where(line_no) + ": header has no label column \"" + label_column + "\" (found: " + names + ")" +
                        (numbers ? "; the first row is all numbers: does the file lack its header row of column names?"
                                 : ""),
                    path, line_no);
  }

  Dataset d;
  d.cols = label_idx == ncols ? ncols : ncols - 1;
  d.label_column = label_idx == ncols ? 0 : label_idx + 1;
  for (std::size_t j = 0; j < ncols; ++j)
    if (j != label_idx) d.feature_names.emplace_back(fields[j]);
  const std::vector<std::string> header(fields.begin(), fields.end());
  const auto approx_rows = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  d.features.reserve(approx_rows * d.cols);
  if (label_idx != ncols) d.labels.reserve(approx_rows);

  std::size_t blank_line = 0;  // first blank line seen; only trailing blank lines are allowed
  while (next_line(line)) {
    if (trim(line).empty()) {
      if (!blank_line) blank_line = line_no;
      continue;
    }
    if (blank_line)
      throw DataError(where(blank_line) + ": blank line inside the data (only blank lines at the "
                                          "end of the file are allowed)",
                      path, blank_line);
    split_line();
    if (fields.size() != ncols)
      throw DataError(where(line_no) + ": expected " + std::to_string(ncols) + " fields, found " +
                          std::to_string(fields.size()),
                      path, line_no);
    for (std::size_t j = 0; j < ncols; ++j) {
      const std::string_view cell = fields[j];
      auto fail = [&](const std::string& what) {
        throw DataError(where(line_no) + ":" + std::to_string(j + 1) + " (column \"" + header[j] +
                            "\"): " + what,
                        path, line_no, j + 1);
      };
      if (cell.empty()) fail("empty cell");
      const char* first = cell.data();
      const char* last = cell.data() + cell.size();
      if (j == label_idx) {
        int v = -1;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || ptr != last || v < 0)
          fail("label " + quoted(cell) + " is not a non-negative integer");
        d.labels.push_back(v);
      } else {
        float v = 0.0f;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec == std::errc::invalid_argument || ptr != last)
          fail("cannot parse " + quoted(cell) + " as a number");
        if (ec == std::errc::result_out_of_range) {
          // Too large for a float is an error; too small (underflow) is read as a signed zero.
          double wide = 0.0;
          const auto r = std::from_chars(first, last, wide);
          if (r.ec != std::errc() || !(std::abs(wide) < 1.0))
            fail("value " + quoted(cell) + " is out of range for a float");
          v = std::signbit(wide) ? -0.0f : 0.0f;
        }
        if (!std::isfinite(v)) fail("non-finite value " + quoted(cell));
        d.features.push_back(v);
      }
    }
    ++d.rows;
  }
  if (d.rows == 0)
    throw DataError(path + ": no data rows after the header", path);
  return d;
}

}  // namespace

Dataset load_csv(const std::string& path, const std::string& label_column) { return load(path, label_column, true); }

Dataset load_csv_unlabelled(const std::string& path, const std::string& label_column) {
  return load(path, label_column, false);
}

}  // namespace ctnn::io
