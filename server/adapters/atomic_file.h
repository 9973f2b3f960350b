// Transitional: the file helpers moved to the neutral edgepass::files library
// (files/atomic_file.h). This header keeps server/main.cc and server/config.cc
// compiling until they include files/atomic_file.h; then delete it.
#ifndef EDGEPASS_SERVER_ADAPTERS_ATOMIC_FILE_H_
#define EDGEPASS_SERVER_ADAPTERS_ATOMIC_FILE_H_

#include "files/atomic_file.h"

namespace edgepass::server {

using files::AtomicWriteOptions;
using files::kMaxDataFileBytes;
using files::MakeDirectories;
using files::ReadFileToString;
using files::WriteFileAtomically;

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_ATOMIC_FILE_H_
