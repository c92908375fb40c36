// The liveness watch of mpirun's engines (mpi_watch.cpp): how the controller learns at once that
// an engine on any host died, and which task it held.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "executors/mpi_session.hpp"

namespace cbench::mpi::detail {

// The offer: the port (network order, 2 bytes), a token (8 bytes) and the controller's IPv4
// addresses (network order, 4 bytes each).
struct WatchOffer {
  std::uint16_t port = 0;
  std::uint64_t token = 0;
  std::vector<std::uint32_t> addresses;
};
std::string encode_offer(const WatchOffer& offer);
WatchOffer decode_offer(std::string_view bytes);

// An engine's side: connects to one of the offer's addresses and sends its token and rank; true
// when the connection is up.
bool connect_watch(const WatchOffer& offer, int rank);
// The controller's side, once, after the hellos: offers the watch to every engine of mpirun's
// and takes each one's connection.
void start_watch(Session& s);
// Sets the task rank at+1 holds ("" for none), which the watch thread names if it dies.
void set_held(Session& s, std::size_t at, std::string_view task);
// The thread that waits on the watch connections and names a dead engine's task, with mpirun's
// SIGTERM held back until it has; and its end.
void start_watcher(Session& s);
void stop_watcher(Session& s);

}  // namespace cbench::mpi::detail
