list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/dilated_strategies_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hierarchical_strategies_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/spatial_temporal_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/strategies_test.cpp)
