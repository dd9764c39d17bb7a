// ctnn/io/csv.hpp: load a numeric CSV file (header row, one label column) into a Dataset.
// Link ctnn_io_dep.
#pragma once

#include <string>

#include "ctnn/io/dataset.hpp"

namespace ctnn::io {

// Reads `path`: a header row of column names, then one row per sample, comma-separated, every
// cell a number; the column named `label_column` holds the class index (a non-negative integer),
// all other columns become features, in file order. Accepts a UTF-8 BOM, CRLF line ends, a
// missing or present final newline and blank lines at the end of the file; spaces and tabs around
// a cell are ignored. A field may be in double quotes (RFC 4180, as R's write.csv quotes the header):
// then it may hold commas, and "" is one quote; a quoted field must end on its line. Numbers are read
// with std::from_chars (the whole cell must be consumed, no leading '+'); a value too small for a
// float reads as 0.
// Throws DataError (message starts with the path; "path:line:col (column "name"): ..." for a bad
// cell) for: a missing/unreadable file, an empty file, no label column, a blank line inside the
// data, a quote left open at the end of a line or text after a closing quote, a row with the wrong
// number of fields, an empty, non-numeric, out-of-range or non-finite
// (nan/inf) cell, a label that is not a non-negative integer, and a file with no data rows.
Dataset load_csv(const std::string& path, const std::string& label_column = "label");

// As load_csv, for data to predict on: the label column may be missing, and then every column is a
// feature and `labels` is empty (a column present is read and checked as load_csv does).
Dataset load_csv_unlabelled(const std::string& path, const std::string& label_column = "label");

}  // namespace ctnn::io
