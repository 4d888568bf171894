//===- ConvertToEmitC.h - pieces of the GPU lowering to EmitC ---*- C++ -*-===//
#ifndef FAOPT_COMPILER_TARGETS_GPU_CONVERTTOEMITC_H
#define FAOPT_COMPILER_TARGETS_GPU_CONVERTTOEMITC_H

namespace mlir {
class RewritePatternSet;
class TypeConverter;
} // namespace mlir

#include <string>

namespace faopt::gpu {

/// A C float literal: 9 significant digits and an f suffix; INFINITY/NAN.
std::string floatLiteral(double v);

/// arith, math and func ops on scalars to plain C operators on int64_t /
/// float / bool (ScalarToEmitC.cpp).
void populateScalarToEmitCPatterns(mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);

/// scf.while to a C do-while, through the type converter (WhileToEmitC.cpp;
/// replaces LLVM 22's, which assigns unconverted values).
void populateWhileToEmitCPatterns(mlir::TypeConverter &converter,
                                  mlir::RewritePatternSet &patterns);

} // namespace faopt::gpu

#endif // FAOPT_COMPILER_TARGETS_GPU_CONVERTTOEMITC_H
