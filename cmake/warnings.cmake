# attnsim_warnings: the warning set every attnsim target compiles with (STYLE C9).
add_library(attnsim_warnings INTERFACE)
target_compile_options(attnsim_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
    -Wnull-dereference -Wformat=2 -Wzero-as-null-pointer-constant>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
