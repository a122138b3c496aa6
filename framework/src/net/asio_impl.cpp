// Compiles Asio's implementation once for the whole program (ASIO_SEPARATE_COMPILATION).
#include <asio/impl/src.hpp>
