// A small read-only HTTP/1.1 server (Boost.Beast) on the daemon's one io_context.
//
// It owns sockets and parsing only: the daemon registers a handler per exact path (or per path
// prefix, e.g. /digest/, whose handler validates the rest itself), and a handler
// answers by calling its Reply — at once, or later after posting blocking work elsewhere (a
// handler must never block the loop: SOCI work goes to a worker thread and posts back).
// GET and HEAD only (405 otherwise), 404 for an unknown path, no request bodies, bounded header
// size and per-connection timeouts so a slow client cannot hold the loop's resources.
//
// Thread safety: everything, including Reply, runs on the io_context's thread.
#pragma once

#include <utility>  // before asio (GCC 12 + awaitable.hpp)

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>

#include "core/result.h"

namespace crmh::http {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using Reply = std::function<void(Response)>;  // call once, on the io_context
using Handler = std::function<void(Reply)>;
// A handler for every path under a prefix; it gets the rest of the path after the prefix, raw
// (not percent-decoded): it must validate it itself.
using PrefixHandler = std::function<void(const std::string& rest, Reply)>;

class Server {
 public:
  // Binds and listens on address:port (port 0 = an ephemeral port; see port()). A bind error
  // is Error::Config naming the address.
  static Result<std::unique_ptr<Server>> Listen(boost::asio::io_context& io,
                                                const std::string& address, int port);
  ~Server();

  void Route(const std::string& path, Handler handler);
  // Paths starting with `prefix` that no exact route claims (the longest prefix wins).
  void RoutePrefix(const std::string& prefix, PrefixHandler handler);
  void Start();  // begin accepting
  // Stop accepting and close every open connection (the daemon's stop path).
  void Close();
  int port() const;

  struct Impl;

 private:
  explicit Server(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace crmh::http
