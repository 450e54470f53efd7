/* fake_elf: writes a minimal valid x86-64 vmlinux-like ELF64 into memory:
 * one PT_LOAD of FAKE_ELF_FILESZ bytes (memsz larger: a .bss) at
 * FAKE_ELF_PADDR, entry 0x40 into it, plus a PT_NOTE that loaders skip. */
#ifndef VMM_TESTS_FAKE_ELF_H
#define VMM_TESTS_FAKE_ELF_H

#include <elf.h>
#include <stdint.h>
#include <string.h>

#define FAKE_ELF_LEN	8192
#define FAKE_ELF_OFFSET 4096
#define FAKE_ELF_FILESZ 4096
#define FAKE_ELF_MEMSZ	(3 * 4096)
#define FAKE_ELF_PADDR	0x1000000ULL

static inline Elf64_Phdr *fake_elf_phdr(uint8_t *img, int i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i;
}

/* Moves the loadable segment and the entry with it. */
static inline void fake_elf_set_paddr(uint8_t *img, uint64_t paddr)
{
	fake_elf_phdr(img, 1)->p_paddr = paddr;
	((Elf64_Ehdr *)img)->e_entry = paddr + 0x40;
}

static inline void fake_elf(uint8_t *img)
{
	memset(img, 0, FAKE_ELF_LEN);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	*fake_elf_phdr(img, 0) = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 512, .p_filesz = 16};
	*fake_elf_phdr(img, 1) = (Elf64_Phdr){
		.p_type = PT_LOAD,
		.p_offset = FAKE_ELF_OFFSET,
		.p_vaddr = 0xffffffff81000000ULL,
		.p_filesz = FAKE_ELF_FILESZ,
		.p_memsz = FAKE_ELF_MEMSZ,
	};
	fake_elf_set_paddr(img, FAKE_ELF_PADDR);
	for (int i = 0; i < FAKE_ELF_FILESZ; i++)
		img[FAKE_ELF_OFFSET + i] = (uint8_t)(i * 13 + 1);
}

#endif
