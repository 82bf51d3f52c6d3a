from django.contrib import admin

from .models import CommonPhrase


@admin.register(CommonPhrase)
class CommonPhraseAdmin(admin.ModelAdmin):
    list_display = ("text", "operation", "order", "active")
    list_filter = ("operation", "active")
    list_editable = ("order", "active")
    search_fields = ("text",)
