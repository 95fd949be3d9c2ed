# Warnings for every target of the project.
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                    -Wformat=2 -Wimplicit-fallthrough -Wpointer-arith -Wvla
                    -Werror=implicit-function-declaration -Werror=return-type)
if(ROSTER_WERROR)
  add_compile_options(-Werror)
endif()
