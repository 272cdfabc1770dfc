# BPF build: vmlinux.h from the running kernel's BTF, each bpf/*.bpf.c
# compiled with clang and turned into a libbpf skeleton by bpftool.

find_program(CLANG NAMES clang clang-14 clang-15 clang-16 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin REQUIRED)
# Optional: the skeletons embed objects without their DWARF (.BTF stays).
find_program(LLVM_STRIP NAMES llvm-strip llvm-strip-14 llvm-strip-15 llvm-strip-16)

set(VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "Kernel BTF used to generate vmlinux.h")
if(NOT EXISTS "${VMLINUX_BTF}")
  message(FATAL_ERROR
    "No kernel BTF at ${VMLINUX_BTF}: the BPF programs are compiled against the "
    "kernel's types (CO-RE). Build on a kernel with CONFIG_DEBUG_INFO_BTF=y, or "
    "pass -DVMLINUX_BTF=/path/to/vmlinux of the target kernel.")
endif()

set(TP_BPF_OUT ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${TP_BPF_OUT})

add_custom_command(
  OUTPUT ${TP_BPF_OUT}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${VMLINUX_BTF} format c > ${TP_BPF_OUT}/vmlinux.h.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${TP_BPF_OUT}/vmlinux.h.tmp ${TP_BPF_OUT}/vmlinux.h
  DEPENDS ${VMLINUX_BTF}
  COMMENT "Generating vmlinux.h from ${VMLINUX_BTF}"
  VERBATIM)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(TP_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(TP_BPF_ARCH arm64)
else()
  set(TP_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

file(GLOB TP_BPF_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/*.h)

# tp_bpf_skeleton_variant(<bpf source> <suffix> <flags> <out var>):
# NAME.bpf.c -> NAME${suffix}.bpf.o (compiled with the extra flags) and its
# skeleton NAME${suffix}.skel.h (struct NAME${suffix}_bpf).
function(tp_bpf_skeleton_variant src suffix flags outvar)
  get_filename_component(base ${src} NAME)
  string(REGEX REPLACE "\\.bpf\\.c$" "" name ${base})
  set(name ${name}${suffix})
  set(obj ${TP_BPF_OUT}/${name}.bpf.o)
  set(skel ${TP_BPF_OUT}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${TP_BPF_ARCH} ${flags}
            -Wall -Wno-unused-function -Werror=implicit-function-declaration
            -I${TP_BPF_OUT} -I${CMAKE_SOURCE_DIR}/bpf
            -c ${src} -o ${obj}
    DEPENDS ${src} ${TP_BPF_HEADERS} ${TP_BPF_OUT}/vmlinux.h
    COMMENT "BPF ${name}.bpf.c"
    VERBATIM)
  # The skeleton embeds the object, twice per family (typed and _nk): its
  # DWARF (most of its size; .BTF and .BTF.ext stay) is left out of it.
  if(LLVM_STRIP)
    set(embed ${TP_BPF_OUT}/${name}.embed.o)
    add_custom_command(
      OUTPUT ${embed}
      COMMAND ${LLVM_STRIP} -g ${obj} -o ${embed}
      DEPENDS ${obj}
      VERBATIM)
  else()
    set(embed ${obj})
  endif()
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${embed} name ${name}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${embed}
    COMMENT "Skeleton ${name}.skel.h"
    VERBATIM)
  set(${outvar} ${skel} PARENT_SCOPE)
endfunction()

# tp_bpf_skeleton(<bpf source> <out var>): compile and generate <name>.skel.h
function(tp_bpf_skeleton src outvar)
  tp_bpf_skeleton_variant(${src} "" "" skel)
  set(${outvar} ${skel} PARENT_SCOPE)
endfunction()
