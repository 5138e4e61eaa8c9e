// stafett_limits: the machine's limits as one JSON line.
//   stafett_limits --dir TMP [--seconds S] [--zmq-count N]
#include "bench_stats.h"
#include "limits.h"

int main(int argc, char** argv) {
  using namespace stafett::bench;
  Flags flags(argc, argv, 1);
  std::filesystem::path dir = flags.Get("dir", "/tmp");
  double seconds = flags.Double("seconds", 3);
  int zmq_count = static_cast<int>(flags.Int("zmq-count", 100000));
  nlohmann::json result = {{"system", "limits"}};
  result["fdatasync"] = MeasureFdatasync(dir, seconds);
  result["file_handoff"] = MeasureFileHandoff(dir, seconds);
  result["rocksdb"] = MeasureRocksDb(dir, seconds);
  result["crypto"] = MeasureCrypto(seconds / 6);
  result["zmq"] = MeasureZmq(zmq_count, 256);
  PrintResult(result);
  return 0;
}
