// A scratch folder for one test: created empty, removed with everything in it when the object dies.
#ifndef EMBER_TESTS_TEMP_DIR_H_
#define EMBER_TESTS_TEMP_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ember::testing {

class TempDir {
 public:
  // Unique per process and object, so parallel test processes never share one.
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("ember_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }

  // Writes `content` to the file `name` in the folder and returns the file's path.
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEMP_DIR_H_
