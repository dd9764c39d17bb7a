// ctnn/io/json_file.hpp: read a JSON file with the loaders' error messages: "path: cannot open file
// (No such file or directory)", a syntax error as "path:line:column: invalid JSON: <what the parser
// says>" (never nlohmann's "[json.exception...]" text). The JSON model file loader (weights.hpp)
// reads through it; so does the ctnn tool for its topology files. Compiled in src/io/weights.cpp
// (ctnn_io_dep). Layer: io.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ctnn/io/dataset.hpp"  // DataError

namespace ctnn::io {

/// The parsed file. Throws DataError naming the file (and line:column for a syntax error).
nlohmann::json read_json_file(const std::string& path);

}  // namespace ctnn::io
