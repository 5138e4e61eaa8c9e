// Table: fixed-width text tables for the CLI's `--format table`.
// Thread-safety: a plain value.
#pragma once

#include <string>
#include <vector>

namespace stafett::tools {

class Table {
 public:
  explicit Table(std::vector<std::string> headings) : rows_{std::move(headings)} {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace stafett::tools
