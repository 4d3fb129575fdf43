#include "daemon/http.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <list>
#include <map>
#include <optional>

namespace crmh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr std::chrono::seconds kIdleTimeout{30};
constexpr std::chrono::seconds kWriteTimeout{30};
constexpr unsigned kHeaderLimit = 8 * 1024;
constexpr size_t kMaxConnections = 64;  // a scraper and a health checker need a handful

}  // namespace

class Session;

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  explicit Impl(asio::io_context& ctx) : io(ctx), acceptor(ctx) {}

  void Accept();
  void Forget(Session* s);

  asio::io_context& io;
  tcp::acceptor acceptor;
  std::map<std::string, Handler> routes;
  std::map<std::string, PrefixHandler> prefix_routes;
  std::list<std::weak_ptr<Session>> sessions;
  bool closed = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Server::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void Read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(0);  // read-only endpoints: a request body is an error
    stream_.expires_after(kIdleTimeout);
    bh::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->OnRead(ec);
                   });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) {
      if (ec != bh::error::end_of_stream && ec != asio::error::operation_aborted &&
          ec != beast::error::timeout) {
        // A malformed or oversized request: say so, then close.
        keep_alive_ = false;
        head_ = false;
        return Send({400, "text/plain; charset=utf-8", "bad request\n"});
      }
      return Finish();
    }
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    head_ = req.method() == bh::verb::head;
    if (req.method() != bh::verb::get && !head_) {
      allow_ = true;
      return Send({405, "text/plain; charset=utf-8", "method not allowed: this endpoint is read-only\n"});
    }
    std::string target(req.target());
    std::string path = target.substr(0, target.find('?'));
    auto it = server_->routes.find(path);
    if (it == server_->routes.end()) {
      const PrefixHandler* best = nullptr;
      size_t best_len = 0;
      for (const auto& [prefix, h] : server_->prefix_routes) {
        if (path.size() >= prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
            prefix.size() >= best_len) {
          best = &h;
          best_len = prefix.size();
        }
      }
      if (!best) return Send({404, "text/plain; charset=utf-8", "not found\n"});
      return (*best)(path.substr(best_len),
                     [self = shared_from_this()](Response r) { self->Send(std::move(r)); });
    }
    // The handler may answer later; the session waits (no read meanwhile: one request at a time).
    it->second([self = shared_from_this()](Response r) { self->Send(std::move(r)); });
  }

  void Send(Response r) {
    if (server_->closed) return Finish();
    auto res = std::make_shared<bh::response<bh::string_body>>(static_cast<bh::status>(r.status), 11);
    res->set(bh::field::content_type, r.content_type);
    res->set(bh::field::cache_control, "no-store");
    if (allow_) res->set(bh::field::allow, "GET, HEAD");
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head_) {
      // HEAD: the headers GET would send (Content-Length included), no body.
      auto size = res->body().size();
      res->body().clear();
      res->content_length(size);
    }
    stream_.expires_after(kWriteTimeout);
    auto self = shared_from_this();
    bh::async_write(stream_, *res, [self, res](beast::error_code ec, std::size_t) {
      if (ec || !self->keep_alive_ || self->server_->closed) return self->Finish();
      self->allow_ = false;
      self->Read();
    });
  }

  void Finish() {
    Close();
    server_->Forget(this);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bh::request_parser<bh::empty_body>> parser_;
  std::shared_ptr<Server::Impl> server_;
  bool keep_alive_ = false;
  bool head_ = false;
  bool allow_ = false;
};

void Server::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->closed) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      spdlog::warn("http: accept failed: {}", ec.message());
    } else if (self->sessions.size() >= kMaxConnections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      auto s = std::make_shared<Session>(std::move(socket), self);
      self->sessions.push_back(s);
      s->Read();
    }
    self->Accept();
  });
}

void Server::Impl::Forget(Session* s) {
  sessions.remove_if([s](const std::weak_ptr<Session>& w) {
    auto p = w.lock();
    return !p || p.get() == s;
  });
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Close(); }

Result<std::unique_ptr<Server>> Server::Listen(asio::io_context& io, const std::string& address,
                                               int port) {
  auto impl = std::make_shared<Impl>(io);
  beast::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Error::Config(fmt::format("http.listen: '{}' is not an IP address", address));
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string where = addr.is_v6() ? fmt::format("[{}]:{}", address, port)
                                     : fmt::format("{}:{}", address, port);
    return Error::Config(fmt::format("http.listen {}: cannot listen: {}", where, ec.message()));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Route(const std::string& path, Handler handler) { impl_->routes[path] = std::move(handler); }

void Server::RoutePrefix(const std::string& prefix, PrefixHandler handler) {
  impl_->prefix_routes[prefix] = std::move(handler);
}

void Server::Start() { impl_->Accept(); }

void Server::Close() {
  if (impl_->closed) return;
  impl_->closed = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  auto sessions = std::move(impl_->sessions);
  for (auto& w : sessions) {
    if (auto s = w.lock()) s->Close();
  }
}

int Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace crmh::http
