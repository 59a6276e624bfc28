#include "core/comm/stall_watchdog.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "core/util/exit_codes.hpp"

namespace gg {

namespace {

constexpr int kTag = 1;  // the watchdog's communicator carries nothing else
constexpr std::int32_t kQuery = 1, kWaiting = 2;
constexpr auto kPoll = std::chrono::milliseconds(10);  // how often a long wait answers and checks

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// "0-2,4,6-7", at most max_runs runs, then "... (N ranks)".
std::string ranks_text(const std::vector<int>& ranks, std::size_t max_runs = 12) {
  std::string out;
  std::size_t runs = 0;
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (runs == max_runs) {
      out += ",... (" + std::to_string(ranks.size()) + " ranks)";
      break;
    }
    out += (out.empty() ? "" : ",") + std::to_string(ranks[i]) + (j > i ? "-" + std::to_string(ranks[j]) : "");
    ++runs;
    i = j + 1;
  }
  return out;
}

std::string plural(const std::vector<int>& ranks) {
  return (ranks.size() == 1 ? "rank " : "ranks ") + ranks_text(ranks);
}

int world_rank_of(MPI_Comm comm, int rank) {
  if (rank < 0 || comm == MPI_COMM_NULL) return -1;
  MPI_Group g = MPI_GROUP_NULL, w = MPI_GROUP_NULL;
  int out = -1;
  if (MPI_Comm_group(comm, &g) == MPI_SUCCESS && MPI_Comm_group(MPI_COMM_WORLD, &w) == MPI_SUCCESS)
    MPI_Group_translate_ranks(g, 1, &rank, w, &out);
  if (g != MPI_GROUP_NULL) MPI_Group_free(&g);
  if (w != MPI_GROUP_NULL) MPI_Group_free(&w);
  return out == MPI_UNDEFINED ? -1 : out;
}

std::string call_text(const StallWatchdog::Note& n) {
  std::string s(n.op, strnlen(n.op, sizeof n.op));
  if (n.peer >= 0) s += " with rank " + std::to_string(n.peer);
  return s;
}

}  // namespace

struct StallWatchdog::Stall {
  bool asked_warn = false, warned = false, asked_abort = false;
  double warn_asked_at = 0, abort_asked_at = 0;
};

StallWatchdog::StallWatchdog(double warn_s, double abort_s, std::FILE* out)
    : warn_s_(warn_s), abort_s_(abort_s), out_(out) {
  const double first = warn_s > 0 ? warn_s : abort_s;
  grace_s_ = std::clamp(first / 10, 0.3, 5.0);  // for answers to arrive from ranks that wait too
  MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  answers_.resize(std::size_t(size_));
}

StallWatchdog::~StallWatchdog() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized || comm_ == MPI_COMM_NULL) return;
  for (int flag = 1; flag;) {  // questions that came after the last long wait
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, kTag, comm_, &flag, &st) != MPI_SUCCESS) break;
    if (flag) {
      Note in;
      MPI_Recv(&in, sizeof in, MPI_BYTE, st.MPI_SOURCE, kTag, comm_, MPI_STATUS_IGNORE);
    }
  }
  for (auto& o : outgoing_)
    for (MPI_Request& r : o->reqs)
      if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);  // small messages: they complete on their own
  MPI_Comm_free(&comm_);
}

int StallWatchdog::wait(int n, MPI_Request* reqs, MPI_Status* statuses, const char* op, MPI_Comm comm, int peer) {
  int done = 0;
  int rc = MPI_Testall(n, reqs, &done, statuses);
  if (rc != MPI_SUCCESS || done) return rc;
  const Clock::time_point t0 = Clock::now();
  Clock::time_point next = t0 + kPoll;
  Stall st;
  int peer_world = -2;  // translated on the first poll
  for (unsigned spin = 1;; ++spin) {
    rc = MPI_Testall(n, reqs, &done, statuses);
    if (rc != MPI_SUCCESS || done) return rc;
    if (spin % 16 != 0) continue;
    const Clock::time_point t = Clock::now();
    if (t < next) continue;
    next = t + kPoll;
    if (peer_world == -2) peer_world = world_rank_of(comm, peer);
    poll(st, std::chrono::duration<double>(t - t0).count(), op, peer_world);
  }
}

void StallWatchdog::poll(Stall& st, double waited, const char* op, int peer_world) {
  Note mine;
  mine.kind = kWaiting;
  mine.peer = peer_world;
  mine.waited_s = waited;
  std::strncpy(mine.op, op, sizeof mine.op - 1);
  reap_sends();
  answer_and_collect(mine);
  if (warn_s_ > 0 && !st.warned && waited >= warn_s_) {
    if (!st.asked_warn) {
      ask(mine);
      st.asked_warn = true;
      st.warn_asked_at = waited;
    } else if (waited >= st.warn_asked_at + grace_s_) {
      st.warned = true;
      if (lowest_waiting() == rank_) {
        answers_[std::size_t(rank_)] = mine;
        std::fprintf(out_, "gg_train: warning: stall: %s\n",
                     describe(answers_, rank_, waited, "comm.stall_warn_s", warn_s_).c_str());
        std::fflush(out_);
      }
    }
  }
  if (abort_s_ > 0 && waited >= abort_s_) {
    if (!st.asked_abort) {
      ask(mine);
      st.asked_abort = true;
      st.abort_asked_at = waited;
    } else if (waited >= st.abort_asked_at + grace_s_) {
      const bool printer = lowest_waiting() == rank_;
      // The others wait a little longer, in case the printing rank cannot end the job itself.
      if (printer || waited >= st.abort_asked_at + 3 * grace_s_ + 2.0) {
        if (printer) {
          answers_[std::size_t(rank_)] = mine;
          std::fprintf(out_, "gg_train: error: stall: %s; ending the job\n",
                       describe(answers_, rank_, waited, "comm.stall_abort_s", abort_s_).c_str());
          std::fflush(out_);
        }
        MPI_Abort(MPI_COMM_WORLD, exit_code::kStalled);
      }
    }
  }
}

void StallWatchdog::ask(const Note& mine) {
  ++query_;
  answers_.assign(std::size_t(size_), Note{});
  answers_[std::size_t(rank_)] = mine;
  Note q = mine;
  q.kind = kQuery;
  q.query = query_;
  for (int d = 0; d < size_; ++d)
    if (d != rank_) send(d, q);
}

void StallWatchdog::answer_and_collect(const Note& mine) {
  for (;;) {
    int flag = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, kTag, comm_, &flag, &st) != MPI_SUCCESS || !flag) return;
    Note in;
    if (MPI_Recv(&in, sizeof in, MPI_BYTE, st.MPI_SOURCE, kTag, comm_, MPI_STATUS_IGNORE) != MPI_SUCCESS) return;
    in.op[sizeof in.op - 1] = '\0';
    if (in.kind == kQuery) {
      Note reply = mine;
      reply.query = in.query;
      send(st.MPI_SOURCE, reply);
    } else if (in.kind == kWaiting && in.query == query_ && st.MPI_SOURCE >= 0 && st.MPI_SOURCE < size_) {
      answers_[std::size_t(st.MPI_SOURCE)] = in;
    }
  }
}

void StallWatchdog::send(int dest, const Note& note) {
  if (outgoing_.empty() || std::memcmp(&outgoing_.back()->note, &note, sizeof note) != 0) {  // else: same note
    outgoing_.push_back(std::make_unique<Outgoing>());
    outgoing_.back()->note = note;
  }
  Outgoing& o = *outgoing_.back();
  o.reqs.emplace_back(MPI_REQUEST_NULL);
  if (MPI_Isend(&o.note, sizeof o.note, MPI_BYTE, dest, kTag, comm_, &o.reqs.back()) != MPI_SUCCESS)
    o.reqs.back() = MPI_REQUEST_NULL;
}

void StallWatchdog::reap_sends() {
  std::erase_if(outgoing_, [](const std::unique_ptr<Outgoing>& o) {
    int done = 0;
    MPI_Testall(int(o->reqs.size()), o->reqs.data(), &done, MPI_STATUSES_IGNORE);
    return done != 0;
  });
}

int StallWatchdog::lowest_waiting() const {
  for (int r = 0; r < size_; ++r)
    if (r == rank_ || answers_[std::size_t(r)].kind == kWaiting) return r;
  return rank_;
}

std::string StallWatchdog::describe(const std::vector<Note>& notes, int me, double waited_s, const char* limit_key,
                                    double limit_s) {
  std::vector<int> missing;
  std::map<std::string, std::vector<int>> by_call;  // what the waiting ranks wait in
  for (int r = 0; r < int(notes.size()); ++r) {
    if (notes[std::size_t(r)].kind == kWaiting) by_call[call_text(notes[std::size_t(r)])].push_back(r);
    else missing.push_back(r);
  }
  const Note& mine = notes[std::size_t(me)];
  std::string s = "rank " + std::to_string(me) + " has waited " + seconds(waited_s) + " in " + call_text(mine) + "; ";
  if (missing.empty()) s += "every rank waits in a communication call (mismatched calls?)";
  else s += plural(missing) + " not in any communication call (stopped, hung or far slower than the rest)";
  s += "; waiting:";
  std::size_t shown_calls = 0;
  for (const auto& [call, ranks] : by_call) {
    if (shown_calls++ == 6) {
      s += " ... (" + std::to_string(by_call.size() - 6) + " more calls)";
      break;
    }
    s += (shown_calls > 1 ? ", " : " ") + plural(ranks) + " in " + call;
  }
  return s + " (" + limit_key + " = " + seconds(limit_s) + ")";
}

}  // namespace gg
