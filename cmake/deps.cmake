# The Debian packages autodisco builds on; configure stops naming the package that is missing.
find_package(PkgConfig REQUIRED)

macro(ad_pkg var module debian)
  pkg_check_modules(${var} IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "${module} not found: install the Debian package ${debian} "
                        "(scripts/install-deps does it)")
  endif()
endmacro()

ad_pkg(UV libuv libuv1-dev)
ad_pkg(CARES libcares libc-ares-dev)
ad_pkg(KNOT "libknot;libzscanner" libknot-dev)
ad_pkg(FYAML libfyaml libfyaml-dev)
ad_pkg(XML2 libxml-2.0 libxml2-dev)

# BoringSSL from android-libboringssl-dev: headers under /usr/include/android, libraries in the
# multiarch android/ folder, which is not on the loader path, hence the rpath.
set(BSSL_LIBDIR /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android)
find_path(BSSL_INCLUDE openssl/base.h PATHS /usr/include/android NO_DEFAULT_PATH)
find_library(BSSL_SSL NAMES ssl PATHS ${BSSL_LIBDIR} NO_DEFAULT_PATH)
find_library(BSSL_CRYPTO NAMES crypto PATHS ${BSSL_LIBDIR} NO_DEFAULT_PATH)
if(NOT BSSL_INCLUDE OR NOT BSSL_SSL OR NOT BSSL_CRYPTO)
  message(FATAL_ERROR "BoringSSL not found: install the Debian package android-libboringssl-dev "
                      "(scripts/install-deps does it)")
endif()
add_library(boringssl_crypto SHARED IMPORTED)
set_target_properties(boringssl_crypto PROPERTIES IMPORTED_LOCATION ${BSSL_CRYPTO}
                      INTERFACE_INCLUDE_DIRECTORIES ${BSSL_INCLUDE})
add_library(boringssl_ssl SHARED IMPORTED)
set_target_properties(boringssl_ssl PROPERTIES IMPORTED_LOCATION ${BSSL_SSL}
                      INTERFACE_INCLUDE_DIRECTORIES ${BSSL_INCLUDE}
                      INTERFACE_LINK_LIBRARIES boringssl_crypto)
set(CMAKE_BUILD_RPATH ${BSSL_LIBDIR})
set(CMAKE_INSTALL_RPATH ${BSSL_LIBDIR})

# llhttp: Debian's node-llhttp ships the C sources; we build them as a static library.
set(LLHTTP_DIR /usr/share/llhttp)
find_path(LLHTTP_INCLUDE llhttp.h PATHS /usr/share/include/llhttp NO_DEFAULT_PATH)
if(NOT LLHTTP_INCLUDE OR NOT EXISTS ${LLHTTP_DIR}/llhttp.c)
  message(FATAL_ERROR "llhttp sources not found: install the Debian package node-llhttp "
                      "(scripts/install-deps does it)")
endif()
add_library(llhttp STATIC ${LLHTTP_DIR}/api.c ${LLHTTP_DIR}/http.c ${LLHTTP_DIR}/llhttp.c)
target_include_directories(llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE})
target_compile_options(llhttp PRIVATE -w)
set_target_properties(llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON)

pkg_check_modules(CMOCKA IMPORTED_TARGET cmocka)
if(NOT CMOCKA_FOUND)
  message(FATAL_ERROR "cmocka not found: install the Debian package libcmocka-dev "
                      "(scripts/install-deps does it)")
endif()
