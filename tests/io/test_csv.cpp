// CSV loader: the real datasets in data/, the accepted format variations, and one test per kind
// of bad input, checking that the message names the file, the line and the column.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/io/csv.hpp"
#include "ctnn/io/dataset.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using ctnn::io::DataError;
using ctnn::io::Dataset;
using ctnn::io::load_csv;
using ctnn::io::Standardizer;

namespace {

const fs::path& temp_dir() {
  static const ctnn::test::TempDir d("io-csv");
  return d.path;
}

// Writes `content` byte for byte to a file in the temporary directory; returns its path.
std::string write_file(const std::string& name, const std::string& content) {
  const fs::path p = temp_dir() / name;
  std::ofstream out(p, std::ios::binary);
  out << content;
  return p.string();
}

// The what() of the DataError that `f` throws ("" and a failed check if it throws none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL_CHECK("no DataError thrown");
  return {};
}

bool has(const std::string& msg, const std::string& part) {
  return msg.find(part) != std::string::npos;
}

std::string data_dir() {
  const char* d = std::getenv("CTNN_DATA");
  REQUIRE_MESSAGE(d != nullptr, "CTNN_DATA is not set (run through meson test)");
  return d;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  return out;
}

}  // namespace

TEST_CASE("real datasets in data/ load with the documented shapes") {
  struct Case {
    const char* stem;
    std::size_t train_rows, test_rows, cols, classes;
  };
  const Case cases[] = {{"iris", 120, 30, 4, 3},
                        {"wine", 142, 36, 13, 3},
                        {"digits", 1437, 360, 64, 10},
                        {"breast_cancer", 455, 114, 30, 2}};
  const std::string dir = data_dir();
  for (const Case& c : cases) {
    for (const char* part : {"_train.csv", "_test.csv"}) {
      const std::string path = dir + "/" + c.stem + part;
      CAPTURE(path);
      const Dataset d = load_csv(path);
      CHECK(d.rows == (std::string(part) == "_train.csv" ? c.train_rows : c.test_rows));
      CHECK(d.cols == c.cols);
      CHECK(d.num_classes() == c.classes);
      CHECK(d.features.size() == d.rows * d.cols);
      CHECK(d.labels.size() == d.rows);
      CHECK(d.feature_names.size() == d.cols);
      for (int l : d.labels) CHECK((l >= 0 && static_cast<std::size_t>(l) < c.classes));

      // First data row, parsed independently of the loader.
      std::ifstream in(path);
      std::string header, first;
      std::getline(in, header);
      std::getline(in, first);
      const std::vector<std::string> names = split(header), cells = split(first);
      REQUIRE(cells.size() == c.cols + 1);
      CHECK(names.back() == "label");
      for (std::size_t j = 0; j < c.cols; ++j) {
        CHECK(d.feature_names[j] == names[j]);
        CHECK(d.row(0)[j] == std::stof(cells[j]));
      }
      CHECK(d.labels[0] == std::stoi(cells.back()));
    }
  }
}

TEST_CASE("iris first row, spelled out") {
  const Dataset d = load_csv(data_dir() + "/iris_train.csv");
  REQUIRE(d.rows == 120);
  CHECK(d.feature_names[0] == "sepal_length_(cm)");
  CHECK(d.feature_names[3] == "petal_width_(cm)");
  CHECK(d.row(0)[0] == 4.9f);
  CHECK(d.row(0)[1] == 3.0f);
  CHECK(d.row(0)[2] == 1.4f);
  CHECK(d.row(0)[3] == 0.2f);
  CHECK(d.labels[0] == 0);
}

TEST_CASE("accepted variations: BOM, CRLF, no final newline, trailing blank lines, spaces") {
  const std::string body = "a,b,label\n1,2.5,0\n-3,4e2,1\n";
  auto check = [](const std::string& path) {
    CAPTURE(path);
    const Dataset d = load_csv(path);
    REQUIRE(d.rows == 2);
    REQUIRE(d.cols == 2);
    CHECK(d.feature_names == std::vector<std::string>{"a", "b"});
    CHECK(d.features == std::vector<float>{1.0f, 2.5f, -3.0f, 400.0f});
    CHECK(d.labels == std::vector<int>{0, 1});
    CHECK(d.num_classes() == 2);
  };
  check(write_file("plain.csv", body));
  check(write_file("no_final_newline.csv", "a,b,label\n1,2.5,0\n-3,4e2,1"));
  check(write_file("bom.csv", "\xEF\xBB\xBF" + body));
  check(write_file("crlf.csv", "a,b,label\r\n1,2.5,0\r\n-3,4e2,1\r\n"));
  check(write_file("bom_crlf_no_final.csv", "\xEF\xBB\xBF" "a,b,label\r\n1,2.5,0\r\n-3,4e2,1"));
  check(write_file("blank_final.csv", body + "\n"));
  check(write_file("blank_final_crlf.csv", "a,b,label\r\n1,2.5,0\r\n-3,4e2,1\r\n\r\n"));
  check(write_file("spaces.csv", "a, b ,label\n 1 ,2.5,\t0\n-3,4e2 , 1\n"));
  // RFC 4180 quotes (R's write.csv quotes the header), spaces around them allowed
  check(write_file("quoted_header.csv", "\"a\",\"b\",\"label\"\n1,2.5,0\n-3,4e2,1\n"));
  check(write_file("quoted_cells.csv", "a,b,label\n\"1\", \"2.5\" ,\"0\"\n-3,\"4e2\",1\n"));
}

TEST_CASE("load_csv_unlabelled: without the label column every column is a feature; with it, as load_csv") {
  const std::string none = write_file("unlabelled.csv", "a,b\n1,2\n3,4\n");
  const Dataset u = ctnn::io::load_csv_unlabelled(none);
  CHECK(u.rows == 2);
  CHECK(u.cols == 2);
  CHECK(u.feature_names == std::vector<std::string>{"a", "b"});
  CHECK(u.features == std::vector<float>{1, 2, 3, 4});
  CHECK(u.labels.empty());
  CHECK(error_of([&] { load_csv(none); }).find("header has no label column") != std::string::npos);
  const std::string with = write_file("labelled.csv", "a,label,b\n1,0,2\n3,1,4\n");
  const Dataset l = ctnn::io::load_csv_unlabelled(with);
  CHECK(l.cols == 2);
  CHECK(l.features == load_csv(with).features);
  CHECK(l.labels == std::vector<int>{0, 1});
  // the label column, when present, is checked as load_csv checks it
  const std::string bad = write_file("bad_label.csv", "a,label\n1,x\n");
  CHECK(error_of([&] { ctnn::io::load_csv_unlabelled(bad); }) == error_of([&] { load_csv(bad); }));
}

TEST_CASE("quoted names keep their commas, quotes and spaces") {
  const std::string path =
      write_file("quoted_names.csv", "\"x, in cm\",\"say \"\"hi\"\"\",\" padded \",\"\",label\n1,2,3,4,0\n");
  const Dataset d = load_csv(path);
  CHECK(d.feature_names == std::vector<std::string>{"x, in cm", "say \"hi\"", " padded ", ""});
  CHECK(d.features == std::vector<float>{1, 2, 3, 4});
  // an empty quoted cell is an empty cell
  CHECK(error_of([] { load_csv(write_file("quoted_empty.csv", "a,label\n\"\",0\n")); }) ==
        (temp_dir() / "quoted_empty.csv").string() + ":2:1 (column \"a\"): empty cell");
}

TEST_CASE("label column anywhere, with another name") {
  const std::string path = write_file("class_first.csv", "class,x,y\n2,1,2\n0,3,4\n");
  const Dataset d = load_csv(path, "class");
  CHECK(d.cols == 2);
  CHECK(d.feature_names == std::vector<std::string>{"x", "y"});
  CHECK(d.features == std::vector<float>{1, 2, 3, 4});
  CHECK(d.labels == std::vector<int>{2, 0});
  CHECK(d.num_classes() == 3);
}

TEST_CASE("missing file") {
  const std::string path = (temp_dir() / "does_not_exist.csv").string();
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(msg == path + ": cannot open file (No such file or directory)");
  CHECK(has(msg, "does_not_exist.csv"));
}

TEST_CASE("a directory is not a file") {
  const std::string msg = error_of([&] { load_csv(temp_dir().string()); });
  CHECK(has(msg, temp_dir().string()));
  CHECK(has(msg, "cannot open file"));
}

TEST_CASE("empty file") {
  for (const char* content : {"", "\n", "\r\n\r\n", "\xEF\xBB\xBF", "  \n"}) {
    const std::string path = write_file("empty.csv", content);
    const std::string msg = error_of([&] { load_csv(path); });
    CHECK(has(msg, path + ": file is empty"));
  }
}

TEST_CASE("header without the label column") {
  const std::string path = write_file("no_label.csv", "a,b,c\n1,2,3\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(msg == path + ":1: header has no label column \"label\" (found: \"a\", \"b\", \"c\")");
  // Asking for a column that is not there, in a file that has "label".
  const std::string path2 = write_file("other_label.csv", "a,label\n1,0\n");
  const std::string msg2 = error_of([&] { load_csv(path2, "target"); });
  CHECK(has(msg2, path2 + ":1:"));
  CHECK(has(msg2, "\"target\""));
}

TEST_CASE("label column given twice") {
  const std::string path = write_file("two_labels.csv", "label,a,label\n0,1,0\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(has(msg, path + ":1:"));
  CHECK(has(msg, "appears twice"));
}

TEST_CASE("header only, no data rows") {
  const std::string path = write_file("header_only.csv", "a,b,label\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(msg == path + ": no data rows after the header");
}

TEST_CASE("row with too few fields") {
  const std::string path =
      write_file("too_few.csv", "a,b,c,d,label\n1,2,3,4,0\n1,2,3,0\n1,2,3,4,0\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(msg == path + ":3: expected 5 fields, found 4");
  CHECK(has(msg, "too_few.csv:3:"));
}

TEST_CASE("row with too many fields") {
  const std::string path = write_file("too_many.csv", "a,b,c,d,label\n1,2,3,4,0\n1,2,3,4,5,0\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(msg == path + ":3: expected 5 fields, found 6");
  // A trailing comma is one field too many.
  const std::string path2 = write_file("trailing_comma.csv", "a,label\n1,0,\n");
  CHECK(error_of([&] { load_csv(path2); }) == path2 + ":2: expected 2 fields, found 3");
}

TEST_CASE("non-numeric cell: file, line, column, column name and text") {
  std::string content = "sepal_length,sepal_width,petal_width,label\n";
  for (int i = 0; i < 5; ++i) content += "1,2,3,0\n";
  content += "1,2,abc,0\n";  // line 7, column 3
  const std::string path = write_file("x.csv", content);
  try {
    load_csv(path);
    FAIL("no DataError thrown");
  } catch (const DataError& e) {
    const std::string msg = e.what();
    CHECK(msg == path + ":7:3 (column \"petal_width\"): cannot parse \"abc\" as a number");
    CHECK(has(msg, "x.csv"));
    CHECK(has(msg, ":7:3"));
    CHECK(has(msg, "petal_width"));
    CHECK(e.file() == path);
    CHECK(e.line() == 7);
    CHECK(e.column() == 3);
  }
  // Strict parsing: the whole cell must be a number.
  // (A quoted number is a number: "\"1\"" reads as 1; "\"1\" 2" has text after its closing quote.)
  for (const char* bad : {"1.5x", "1,5;", "0x10", "--1", "1e", "+", ".", "1 2", "\"1 2\"", "\"1\" 2"}) {
    const std::string p = write_file("strict.csv", std::string("a,label\n") + bad + ",0\n");
    const std::string m = error_of([&] { load_csv(p); });
    CAPTURE(bad);
    CHECK(has(m, p + ":2:"));
    CHECK((has(m, "cannot parse") || has(m, "expected 2 fields") || has(m, "text after the closing quote")));
  }
}

TEST_CASE("empty cell") {
  const std::string path = write_file("empty_cell.csv", "a,b,c,label\n1,2,3,0\n1,,3,0\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(msg == path + ":3:2 (column \"b\"): empty cell");
  const std::string path2 = write_file("empty_label.csv", "a,label\n1, \n");
  CHECK(error_of([&] { load_csv(path2); }) == path2 + ":2:2 (column \"label\"): empty cell");
}

TEST_CASE("NaN and Inf cells are rejected") {
  for (const char* bad : {"nan", "NaN", "-nan", "inf", "-inf", "Infinity", "INF"}) {
    CAPTURE(bad);
    const std::string path =
        write_file("nonfinite.csv", std::string("a,b,label\n1,2,0\n3,") + bad + ",1\n");
    const std::string msg = error_of([&] { load_csv(path); });
    CHECK(msg == path + ":3:2 (column \"b\"): non-finite value \"" + bad + "\"");
  }
  for (const char* big : {"1e999", "-3.5e38", "1e39"}) {
    CAPTURE(big);
    const std::string path = write_file("overflow.csv", std::string("a,label\n") + big + ",0\n");
    const std::string msg = error_of([&] { load_csv(path); });
    CHECK(msg == path + ":2:1 (column \"a\"): value \"" + big + "\" is out of range for a float");
  }
}

TEST_CASE("tiny values: denormals kept, underflow reads as zero") {
  const std::string path = write_file("tiny.csv", "a,b,c,label\n1e-40,1e-50,-1e-50,0\n");
  const Dataset d = load_csv(path);
  CHECK(d.row(0)[0] == 1e-40f);
  CHECK(d.row(0)[1] == 0.0f);
  CHECK(d.row(0)[2] == 0.0f);
  CHECK(std::signbit(d.row(0)[2]));
}

TEST_CASE("label that is not a non-negative integer") {
  for (const char* bad : {"-1", "1.5", "1.0", "abc", "1e2", "2x", "99999999999"}) {
    CAPTURE(bad);
    const std::string path = write_file("bad_label.csv", std::string("a,label\n1,0\n2,") + bad + "\n");
    const std::string msg = error_of([&] { load_csv(path); });
    CHECK(msg == path + ":3:2 (column \"label\"): label \"" + bad +
                     "\" is not a non-negative integer");
  }
}

TEST_CASE("blank line inside the data") {
  const std::string path = write_file("blank_inside.csv", "a,label\n1,0\n\n2,1\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(has(msg, path + ":3: blank line inside the data"));
}

TEST_CASE("long offending text is shortened") {
  const std::string junk(200, 'z');
  const std::string path = write_file("long.csv", "a,label\n" + junk + ",0\n");
  const std::string msg = error_of([&] { load_csv(path); });
  CHECK(has(msg, path + ":2:1 (column \"a\"): cannot parse \"zzzz"));
  CHECK(has(msg, "...\" as a number"));
  CHECK(msg.size() < path.size() + 120);
}

TEST_CASE("Standardizer: training statistics, constant column, test set") {
  const std::string train_path =
      write_file("std_train.csv", "a,b,c,label\n1,10,5,0\n2,20,5,1\n3,30,5,0\n4,40,5,1\n");
  const std::string test_path = write_file("std_test.csv", "a,b,c,label\n5,0,7,0\n");
  Dataset train = load_csv(train_path);
  Dataset test = load_csv(test_path);
  const Standardizer s = Standardizer::fit(train);
  REQUIRE(s.mean.size() == 3);
  CHECK(s.mean[0] == doctest::Approx(2.5));
  CHECK(s.mean[1] == doctest::Approx(25.0));
  CHECK(s.mean[2] == doctest::Approx(5.0));
  CHECK(s.inv_std[0] == doctest::Approx(1.0 / std::sqrt(1.25)));
  CHECK(s.inv_std[2] == 1.0f);  // constant column: no division by zero
  s.apply(train);
  s.apply(test);
  for (std::size_t j = 0; j < 3; ++j) {
    double m = 0, v = 0;
    for (std::size_t i = 0; i < train.rows; ++i) m += train.row(i)[j];
    m /= static_cast<double>(train.rows);
    for (std::size_t i = 0; i < train.rows; ++i) v += (train.row(i)[j] - m) * (train.row(i)[j] - m);
    v /= static_cast<double>(train.rows);
    CHECK(m == doctest::Approx(0.0));
    CHECK(v == doctest::Approx(j == 2 ? 0.0 : 1.0));
  }
  // The test set uses the training statistics.
  CHECK(test.row(0)[0] == doctest::Approx((5 - 2.5) / std::sqrt(1.25)));
  CHECK(test.row(0)[2] == doctest::Approx(2.0));
  for (float x : train.features) CHECK(std::isfinite(x));

  Dataset other = load_csv(write_file("std_other.csv", "a,label\n1,0\n"));
  CHECK(has(error_of([&] { s.apply(other); }), "fitted on 3 columns"));
  CHECK(has(error_of([&] { Standardizer::fit(Dataset{}); }), "empty"));
  // A NaN or inf (a Dataset built in code; the CSV loader refuses them) would make its column's mean
  // NaN and every standardised value of it NaN: refused, naming the row and feature.
  Dataset holes = load_csv(write_file("std_holes.csv", "a,b,label\n1,2,0\n3,4,1\n"));
  holes.features[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK(error_of([&] { Standardizer::fit(holes); }) ==
        "Standardizer::fit: row 1, feature 1 (\"b\") is NaN: nothing to standardise with");
  holes.features[3] = -std::numeric_limits<float>::infinity();
  CHECK(has(error_of([&] { Standardizer::fit(holes); }), "row 1, feature 1 (\"b\") is infinite"));
}

template <class R>
concept standardizable = requires(const Standardizer& s, R r) { s.apply(std::forward<R>(r)); };

TEST_CASE("Standardizer: one row or a batch of rows of one's own, float or double, as the dataset's") {
  Dataset train = load_csv(data_dir() + "/iris_train.csv");
  const Standardizer s = Standardizer::fit(train);
  std::vector<float> rows(train.features.begin(), train.features.begin() + 3 * 4);  // 3 rows
  std::vector<double> one(train.row(1), train.row(1) + 4);
  s.apply(train);
  s.apply(std::span<float>(rows));
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i] == train.features[i]);  // the same float arithmetic
  s.apply(one);  // a std::vector<double> as it is
  for (std::size_t j = 0; j < 4; ++j) CHECK(one[j] == doctest::Approx(train.row(1)[j]).epsilon(1e-6));
  std::array<float, 4> arr{};
  std::copy(train.row(2), train.row(2) + 4, arr.begin());  // already standardised: once more moves it
  s.apply(arr);
  CHECK(arr[0] == (train.row(2)[0] - s.mean[0]) * s.inv_std[0]);
  static_assert(standardizable<std::vector<float>&> && standardizable<float (&)[4]> &&
                standardizable<std::span<double, 4>>);
  static_assert(!standardizable<std::span<int>> && !standardizable<const std::vector<float>&>);  // no truncation
  CHECK(has(error_of([&] { s.apply(std::span<float>(rows.data(), 5)); }),
            "Standardizer::apply: fitted on 4 columns, given 5 values (not a whole number of rows)"));
  CHECK(has(error_of([&] { s.apply(std::span<float>()); }), "given 0 values"));
}

TEST_CASE("Standardizer on real data: iris train gives mean 0, std 1") {
  Dataset train = load_csv(data_dir() + "/iris_train.csv");
  Dataset test = load_csv(data_dir() + "/iris_test.csv");
  const Standardizer s = Standardizer::fit(train);
  s.apply(train);
  s.apply(test);
  for (std::size_t j = 0; j < train.cols; ++j) {
    double m = 0, v = 0;
    for (std::size_t i = 0; i < train.rows; ++i) m += train.row(i)[j];
    m /= static_cast<double>(train.rows);
    for (std::size_t i = 0; i < train.rows; ++i) v += (train.row(i)[j] - m) * (train.row(i)[j] - m);
    CHECK(std::abs(m) < 1e-5);
    CHECK(v / static_cast<double>(train.rows) == doctest::Approx(1.0).epsilon(1e-4));
  }
}

TEST_CASE("Standardizer on digits: constant pixel columns stay finite") {
  Dataset train = load_csv(data_dir() + "/digits_train.csv");
  const Standardizer s = Standardizer::fit(train);
  CHECK(s.inv_std[0] == 1.0f);  // pixel_0_0 is always 0 in this dataset
  s.apply(train);
  std::size_t non_finite = 0;
  for (float x : train.features) non_finite += !std::isfinite(x);
  CHECK(non_finite == 0);
}
