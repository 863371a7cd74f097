# ATTNSIM_SANITIZE=address,undefined (or thread) instruments every C++ target.
# The quotes keep the list inside one generator expression so nvcc never sees the flags.
if(ATTNSIM_SANITIZE)
  add_compile_options(
    "$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${ATTNSIM_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
  add_link_options(-fsanitize=${ATTNSIM_SANITIZE})
endif()
