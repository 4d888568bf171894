//===- BoostJsonImpl.cpp - Boost.JSON compiled into faopt -----------------===//
//
// Debian's libboost_json.a is not position-independent, so it cannot go into
// libfaopt.so; Boost.JSON's own single-file build puts it here instead.
//
//===----------------------------------------------------------------------===//
#include <boost/json/src.hpp>
